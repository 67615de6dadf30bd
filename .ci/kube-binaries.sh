#!/usr/bin/env bash
# Builds kube-apiserver, etcd and kubectl from source through the Go module proxy
# (no GitHub / dl.k8s.io / Docker needed) and caches them OUTSIDE the repo in the
# layout io.fabric8:kube-api-test 7.3.1 looks for:
#
#   $KUBE_API_TEST_DIR/k8s/<X.Y.Z>-linux-amd64/{etcd,kube-apiserver,kubectl}
#
# kube-api-test 7.3.1 facts (read from its sources, KubeAPIServerConfigBuilder/BinaryManager):
#   - default dir is ~/.kubeapitest (env KUBE_API_TEST_DIR overrides it); sub dir "k8s";
#   - version dir is "<version><-os-arch>", version WITHOUT a leading "v" (e.g. 1.34.4);
#     with KUBE_API_TEST_API_SERVER_VERSION unset it takes the highest local dir, and only
#     downloads (from GitHub) when no dir exists; the dir's existence is all it checks before
#     using it, so this script only ever renames a complete dir into place;
#   - all three binaries are required (kubectl runs its readiness check `get ns default`).
#
# Usage: .ci/kube-binaries.sh            # builds/uses the default version
#        KUBE_VERSION=1.35.4 .ci/kube-binaries.sh
#        KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh
# Env:   KUBE_VERSION (X.Y.Z; unset = try KUBE_VERSION_CANDIDATES in order),
#        KUBE_EXTRA_BINARIES (more k8s.io/kubernetes/cmd/<name> binaries into the same dir, for the local
#        cluster of .ci/cluster.sh; kube-api-test ignores them), KUBE_API_TEST_DIR (default ~/.kubeapitest),
#        GOPATH/GOMODCACHE (go defaults).
# Network: only the Go module proxy. GOPROXY is `go env GOPROXY` without its `direct`/`off` entries (so go never
# turns to a VCS host), and the checksum database (GOSUMDB, go's default) is reached through that proxy
# (<proxy>/sumdb/<name>/supported; go uses it when the proxy answers 200). Set GOSUMDB=off yourself only for a
# proxy that does not serve the checksum database.
# Output: progress on stderr; the last (only) stdout line is the binaries directory.
# Idempotent: if the three binaries exist for the first candidate it prints the directory and
# exits at once (no go/network); a fallback candidate is reused after the proxy refused the ones before it.
#
# Build time on the 2-core / 24 GiB dev machine, go1.26.8, empty Go build cache: 3m43s wall for
# all three incl. ~550 MB of module downloads (1.34.4); 4m52s for 1.34.12 with other jobs running.
# With warm Go caches a rebuild takes ~11s. Sizes (stripped, static): kube-apiserver ~98 MiB,
# kubectl ~59 MiB, etcd ~25 MiB. Go's build cache grows by ~2.4 GiB (~/.cache/go-build).
set -euo pipefail

KUBE_VERSION_CANDIDATES="${KUBE_VERSION_CANDIDATES:-1.34.12 1.34.11 1.34.4 1.35.4 1.36.3}"
KUBE_API_TEST_DIR="${KUBE_API_TEST_DIR:-${HOME}/.kubeapitest}"
PLATFORM_SUFFIX="-linux-amd64"
BIN_NAMES=(etcd kube-apiserver kubectl)
read -r -a EXTRA_NAMES <<<"${KUBE_EXTRA_BINARIES:-}"
for b in "${EXTRA_NAMES[@]}"; do
  [[ "$b" =~ ^kube[a-z-]*$ ]] || { printf '[kube-binaries] ERROR: KUBE_EXTRA_BINARIES: not a k8s.io/kubernetes/cmd name: %s\n' "$b" >&2; exit 1; }
done
ALL_NAMES=("${BIN_NAMES[@]}" "${EXTRA_NAMES[@]}")

log() { printf '[kube-binaries] %s\n' "$*" >&2; }
die() { printf '[kube-binaries] ERROR: %s\n' "$*" >&2; exit 1; }

dir_for() { printf '%s/k8s/%s%s' "${KUBE_API_TEST_DIR}" "$1" "${PLATFORM_SUFFIX}"; }
complete() {
  local d="$1" b
  for b in "${ALL_NAMES[@]}"; do [[ -x "${d}/${b}" && -s "${d}/${b}" ]] || return 1; done
}

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) ;;
  *) die "only linux/amd64 is supported (kube-api-test dir suffix ${PLATFORM_SUFFIX}); got $(uname -s)-$(uname -m)" ;;
esac

if [[ -n "${KUBE_VERSION:-}" ]]; then
  KUBE_VERSION="${KUBE_VERSION#v}"
  [[ "${KUBE_VERSION}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] \
    || die "KUBE_VERSION must be X.Y.Z (kube-api-test parses dir names as numbers); got '${KUBE_VERSION}'"
  candidates=("${KUBE_VERSION}")
else
  read -r -a candidates <<<"${KUBE_VERSION_CANDIDATES}"
fi

# ---- fast path: the preferred version is already cached --------------------------------------
if complete "$(dir_for "${candidates[0]}")"; then
  dir_for "${candidates[0]}"; echo
  exit 0
fi

# ---- slow path: build ------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || die "'go' is not on PATH (needed to build kube-apiserver/etcd/kubectl)"
mkdir -p "${KUBE_API_TEST_DIR}/k8s"

# One builder at a time per cache dir (parallel CI jobs on one host).
if command -v flock >/dev/null 2>&1; then
  exec 9>"${KUBE_API_TEST_DIR}/k8s/.kube-binaries.lock"
  flock 9
  if complete "$(dir_for "${candidates[0]}")"; then dir_for "${candidates[0]}"; echo; exit 0; fi
fi

export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0 GOOS=linux GOARCH=amd64
# Only the module proxy: drop `direct` and `off` from the list; go reaches the checksum database through the
# proxy (it asks <proxy>/sumdb/<GOSUMDB>/supported before anything else), so GOSUMDB keeps go's default.
GOPROXY="$(printf '%s\n' "${GOPROXY:-$(go env GOPROXY)}" | tr ',|' '\n\n' | grep -v -x -e direct -e off -e '' | paste -sd, - || true)"
[[ -n "${GOPROXY}" ]] || die "GOPROXY names no module proxy (only direct/off); this build needs one"
export GOPROXY GOSUMDB="${GOSUMDB:-$(go env GOSUMDB)}"

work="$(mktemp -d "${TMPDIR:-/tmp}/kube-binaries.XXXXXX")"
probe="$(mktemp -d "${TMPDIR:-/tmp}/kube-binaries-probe.XXXXXX")"  # no go.mod: module-less look-ups
staging=""
cleanup() { rm -rf "${work}" "${probe}"; [[ -z "${staging}" ]] || rm -rf "${staging}"; }
trap cleanup EXIT

# go mod download -json <mod@ver> -> JSON; returns non-zero and prints go's error on failure.
modjson() {
  local out
  if ! out="$(cd "${probe}" && GOFLAGS= go mod download -json "$1" 2>&1)" || grep -q '"Error"' <<<"${out}"; then
    printf '%s\n' "${out}" >&2
    return 1
  fi
  printf '%s\n' "${out}"
}
jfield() { sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\\{0,1\\}\$/\\1/p" | head -n1; }

version=""
for v in "${candidates[@]}"; do
  # a fallback candidate built earlier is reused as is (only the first is on the fast path)
  if complete "$(dir_for "$v")"; then dir_for "$v"; echo; exit 0; fi
  log "resolving k8s.io/kubernetes v${v} through ${GOPROXY}"
  if kjson="$(modjson "k8s.io/kubernetes@v${v}")"; then version="$v"; break; fi
  log "the Go proxy cannot serve module k8s.io/kubernetes@v${v}; trying the next candidate"
done
[[ -n "${version}" ]] || die "the Go proxy served none of k8s.io/kubernetes@v{${candidates[*]}}"

minor="${version#*.}"; minor="${minor%%.*}"; major="${version%%.*}"
staging_ver="v0.${version#*.}"
kmod="$(jfield GoMod <<<"${kjson}")"
[[ -f "${kmod}" ]] || die "no go.mod for k8s.io/kubernetes@v${version} in the module cache"
# Tag metadata for `kube-apiserver --version` (same ldflags as hack/lib/version.sh); the
# commit is only known when the proxy reports the module's origin, the date is the tag time.
commit="$(sed -n 's/^[[:space:]]*"Hash": "\([0-9a-f]\{40\}\)".*/\1/p' <<<"${kjson}" | head -n1)"
kinfo="$(jfield Info <<<"${kjson}")"
build_date="$(sed -n 's/.*"Time":"\([^"]*\)".*/\1/p' "${kinfo}" 2>/dev/null || true)"
build_date="${build_date:-1970-01-01T00:00:00Z}"

# Every staging module k8s.io/kubernetes replaces with ./staging/src/k8s.io/<name> is published
# as k8s.io/<name> v0.Y.Z; map them. Ones the proxy cannot serve are dropped (most, such as the
# sample-* modules, are not in the build graph); if one is needed the build error names it.
mapfile -t staging_mods < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "${kmod}")
[[ ${#staging_mods[@]} -gt 0 ]] || die "found no staging replace directives in ${kmod}"
go_line="$(grep -m1 '^go ' "${kmod}" || echo 'go 1.24.0')"
godebug_line="$(grep -m1 '^godebug ' "${kmod}" || true)"

{
  echo "module goodput.local/kubebinaries"
  echo
  echo "${go_line}"
  [[ -z "${godebug_line}" ]] || echo "${godebug_line}"
  echo
  echo "require k8s.io/kubernetes v${version}"
  echo
  echo "replace ("
} >"${work}/go.mod"
missing=()
for m in "${staging_mods[@]}"; do
  if (cd "${probe}" && GOFLAGS= go list -m "${m}@${staging_ver}" >/dev/null 2>"${work}/err"); then
    printf '\t%s => %s %s\n' "$m" "$m" "${staging_ver}" >>"${work}/go.mod"
  else
    missing+=("${m}@${staging_ver}")
    log "the Go proxy cannot serve staging module ${m}@${staging_ver} (left out): $(tail -n1 "${work}/err")"
  fi
done
echo ")" >>"${work}/go.mod"
log "module: k8s.io/kubernetes v${version} + $(( ${#staging_mods[@]} - ${#missing[@]} )) staging replaces at ${staging_ver}"

staging="$(mktemp -d "${KUBE_API_TEST_DIR}/k8s/.build-${version}.XXXXXX")"  # no -linux-amd64 suffix
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X ${pkg}.gitVersion=v${version} -X ${pkg}.gitMajor=${major} -X ${pkg}.gitMinor=${minor}"
  ldflags+=" -X ${pkg}.gitTreeState=clean -X ${pkg}.buildDate=${build_date}"
  [[ -z "${commit}" ]] || ldflags+=" -X ${pkg}.gitCommit=${commit}"
done

gobuild() { # <output> <package> ; the machine has 2 cores: -p 2
  if (cd "${work}" && go build -p 2 -trimpath -ldflags "${ldflags}" -o "$1" "$2") 2>"${work}/build.log"; then
    return 0
  fi
  log "go build $2 failed; last lines of go's output:"
  grep -v '^go: downloading' "${work}/build.log" | tail -n 15 >&2
  local unserved
  unserved="$(grep -o '[^[:space:]]*@v[^[:space:]:]*: reading [^[:space:]]*' "${work}/build.log" \
    | sed 's/: reading.*//' | sort -u | tr '\n' ' ')"
  [[ -z "${unserved}" ]] || log "modules the Go proxy (${GOPROXY}) could not serve: ${unserved}"
  return 1
}
explain() {
  log "build of $1 failed"
  [[ ${#missing[@]} -eq 0 ]] || log "staging modules left out because the proxy did not serve them: ${missing[*]}"
}

target="$(dir_for "${version}")"
have() { [[ -x "${target}/$1" && -s "${target}/$1" ]]; }  # already built (a dir with some of the binaries)

start=${SECONDS}
if ! have kube-apiserver; then
  log "building kube-apiserver v${version} (first run downloads ~550 MB of modules; ~4 min on 2 cores)"
  gobuild "${staging}/kube-apiserver" k8s.io/kubernetes/cmd/kube-apiserver || { explain k8s.io/kubernetes/cmd/kube-apiserver; exit 1; }
fi

# etcd: the etcd server module k8s.io/kubernetes itself pins (its module root is package main).
if ! have etcd; then
  etcd_ver="$(cd "${work}" && go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3 2>/dev/null || true)"
  log "building etcd ${etcd_ver:-?} (go.etcd.io/etcd/server/v3, as pinned by k8s.io/kubernetes)"
  if ! gobuild "${staging}/etcd" go.etcd.io/etcd/server/v3; then
    log "could not build go.etcd.io/etcd/server/v3 ${etcd_ver}; falling back to an installed etcd"
    if ! command -v etcd >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]] && command -v apt-get >/dev/null 2>&1; then
      log "apt-get install etcd-server"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q etcd-server >&2 || true
    fi
    etcd_path="$(command -v etcd || true)"
    [[ -n "${etcd_path}" ]] || die "no etcd: go.etcd.io/etcd/server/v3@${etcd_ver} failed to build and none is installed"
    cp "${etcd_path}" "${staging}/etcd"
  fi
fi

if ! have kubectl; then
  log "building kubectl v${version}"
  if ! gobuild "${staging}/kubectl" k8s.io/kubernetes/cmd/kubectl; then
    kubectl_path="$(command -v kubectl || true)"
    [[ -n "${kubectl_path}" ]] || die "k8s.io/kubernetes/cmd/kubectl failed to build and no kubectl is on PATH"
    log "kubectl build failed; copying ${kubectl_path}"
    cp "${kubectl_path}" "${staging}/kubectl"
  fi
fi

for b in "${EXTRA_NAMES[@]}"; do
  have "$b" && continue
  log "building $b v${version}"
  gobuild "${staging}/$b" "k8s.io/kubernetes/cmd/$b" || { explain "k8s.io/kubernetes/cmd/$b"; exit 1; }
done
chmod 755 "${staging}"
built=("${staging}"/*)
[[ -e "${built[0]}" ]] && chmod 755 "${built[@]}"
log "built in $(( SECONDS - start ))s: ${built[*]##*/}"

if [[ -d "${target}" ]]; then  # a partial dir (an interrupted kube-api-test download, or the extras added later)
  for f in "${built[@]}"; do [[ -e "$f" ]] && mv -f "$f" "${target}/"; done
  rm -rf "${staging}"
else
  mv "${staging}" "${target}"
fi
staging=""
complete "${target}" || die "binaries missing in ${target}"
"${target}/kube-apiserver" --version >&2
echo "${target}"
