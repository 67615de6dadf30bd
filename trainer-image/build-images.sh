#!/usr/bin/env bash
# Builds (and with --push, pushes) the trainer images (CUDA and CPU) and the operator image where a Docker engine exists.
#   trainer-image/build-images.sh [--push] [--registry ghcr.io/goodput] [--tag 0.1.0]
set -euo pipefail
cd "$(dirname "$0")/.."
registry=goodput tag=dev push=false
while [ $# -gt 0 ]; do
  case "$1" in
    --push) push=true ;;
    --registry) registry=$2; shift ;;
    --tag) tag=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
if ! docker info >/dev/null 2>&1; then
  echo "no Docker engine here: cannot build images (the Dockerfiles are checked by TrainerImageTest instead)" >&2
  exit 1
fi
docker build -f trainer-image/Dockerfile.cpu -t "$registry/trainer:$tag-cpu" .
docker build -f trainer-image/Dockerfile -t "$registry/trainer:$tag-cuda" .
# The operator image copies the Quarkus build output, so build it first.
mvn -B -q -pl operator -am package -DskipTests
docker build -f operator/src/main/docker/Dockerfile.jvm -t "$registry/operator:$tag" operator
if $push; then
  docker push "$registry/trainer:$tag-cpu"
  docker push "$registry/trainer:$tag-cuda"
  docker push "$registry/operator:$tag"
fi
