#!/usr/bin/env bash
# Installs what the build and the tests need on a fresh Debian machine of this project's kind; idempotent and quick
# when everything is there. `install-deps.sh dataset` installs only the data set (for make demo).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_apt=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || need_apt+=(dataset-fashion-mnist)
if [ "${1:-}" != dataset ]; then
  command -v mvn >/dev/null || need_apt+=(maven)
  command -v java >/dev/null || need_apt+=(openjdk-17-jdk-headless)
  command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
[ "${1:-}" = dataset ] && exit 0

# The Prometheus client's own text-format parser checks /metrics output in the tests.
python3 -c 'import prometheus_client' 2>/dev/null || python3 -m pip install -q prometheus_client 2>/dev/null \
  || python3 -m pip install -q --break-system-packages prometheus_client

# Real kube-apiserver, etcd and kubectl for the operator tests, built once per machine and cached by version.
if [ -x .ci/kube-binaries.sh ]; then
  .ci/kube-binaries.sh
fi
