# Goodput: the two commands of the README.
#   make demo   trains the Fashion-MNIST CNN on this machine, no cluster needed
#   make test   installs what the tests need and runs the whole suite (.ci/run calls exactly this)
SHELL := /bin/bash
MVN ?= mvn -B -q
TRAINER_JAR := trainer-image/target/goodput-trainer.jar
DATASET := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEMO_DIR := goodput-runs/demo

.PHONY: demo test build trainer deps clean

demo: $(DATASET) trainer
	rm -rf $(DEMO_DIR)
	java -jar $(TRAINER_JAR) run examples/fashion-mnist.yaml --checkpoint-dir $(DEMO_DIR)

test: deps
	mvn -B verify

trainer:
	$(MVN) -pl trainer-image -am package -DskipTests

build:
	$(MVN) package -DskipTests

deps:
	.ci/install-deps.sh

$(DATASET):
	.ci/install-deps.sh dataset

clean:
	$(MVN) clean
	rm -rf goodput-runs
