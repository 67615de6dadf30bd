#!/usr/bin/env bash
# Builds the Prometheus server the tests use, from the Go module proxy only, once per machine, and prints its path.
#
#   .ci/prometheus-binary.sh        -> ~/.cache/goodput/prometheus/<version>/prometheus
#
# Why not Debian's package: it is built without Kubernetes service discovery, which the end-to-end test on the local
# cluster needs (.ci/cluster-e2e.sh, the chart's PodMonitor and ServiceMonitor). Only that discovery mechanism is
# compiled in (Prometheus' build tags remove_all_sd + enable_kubernetes_sd), which roughly halves the build.
# A cold build takes several minutes on 2 cores; afterwards this prints the cached path at once.
# Env: PROMETHEUS_MODULE_VERSION (default v0.316.0, the module version of Prometheus 3.16.0), GOODPUT_PROMETHEUS_CACHE.
set -euo pipefail
VERSION=${PROMETHEUS_MODULE_VERSION:-v0.316.0}
CACHE=${GOODPUT_PROMETHEUS_CACHE:-$HOME/.cache/goodput/prometheus}
OUT=$CACHE/$VERSION
log() { printf '[prometheus-binary] %s\n' "$*" >&2; }

if [[ -x $OUT/prometheus ]]; then echo "$OUT/prometheus"; exit 0; fi
mkdir -p "$CACHE"
exec 9>"$CACHE/.build.lock"
flock 9
if [[ -x $OUT/prometheus ]]; then echo "$OUT/prometheus"; exit 0; fi

# Only the module proxy, as .ci/kube-binaries.sh: drop `direct` and `off`; the checksum database is reached through
# the proxy, so GOSUMDB keeps go's default.
GOPROXY="$(printf '%s\n' "${GOPROXY:-$(go env GOPROXY)}" | tr ',|' '\n\n' | grep -v -x -e direct -e off -e '' | paste -sd, - || true)"
[[ -n $GOPROXY ]] || { log "GOPROXY names no module proxy (only direct/off); this build needs one"; exit 1; }
export GOPROXY GOSUMDB="${GOSUMDB:-$(go env GOSUMDB)}" GOFLAGS="-mod=mod -buildvcs=false" CGO_ENABLED=0
work=$(mktemp -d "${TMPDIR:-/tmp}/prometheus-build.XXXXXX")
trap 'rm -rf "$work"' EXIT
log "building Prometheus ($VERSION, Kubernetes service discovery only) from the module proxy; minutes when cold"
start=$SECONDS
GOBIN=$work/bin go install -trimpath -tags "remove_all_sd enable_kubernetes_sd" \
  "github.com/prometheus/prometheus/cmd/prometheus@$VERSION"
"$work/bin/prometheus" --version >/dev/null
mkdir -p "$OUT.tmp" && mv "$work/bin/prometheus" "$OUT.tmp/prometheus" && rm -rf "$OUT" && mv "$OUT.tmp" "$OUT"
log "built in $(( SECONDS - start ))s: $("$OUT/prometheus" --version 2>&1 | head -1)"
echo "$OUT/prometheus"
