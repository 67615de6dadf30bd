#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the end-to-end tests (docs/cluster.md).
#
#   .ci/cluster.sh up          install/build what is missing (cached), start the cluster, wait for the node Ready
#   .ci/cluster.sh down        stop it and remove every interface, namespace, mount, cgroup and process it made
#   .ci/cluster.sh status      exit 0 when the cluster answers; prints its components
#   .ci/cluster.sh kubeconfig  print the path of the admin kubeconfig (usable from this machine's own network)
#   .ci/cluster.sh images      rebuild the trainer/operator images from the current jars and import them
#
# The whole node (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd, kubelet, kube-proxy)
# runs in the network namespace goodput-node, linked to this machine's namespace by one veth pair; pods sit on a
# bridge inside it. Neither namespace gets a route or a NAT rule toward any other network: every address the
# cluster uses is on this machine. Images are built here without a registry (buildah, chroot isolation) on a Debian
# root filesystem made by debootstrap from the apt mirror this machine is configured with.
#
# Env: GOODPUT_CLUSTER_CACHE (default ~/.cache/goodput/cluster), GOODPUT_CLUSTER_NET (first two octets of the
# cluster's 10.x addresses, default 10.253), KUBE_VERSION (default 1.34.12).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

CACHE=${GOODPUT_CLUSTER_CACHE:-$HOME/.cache/goodput/cluster}
STATE=$CACHE/state          # one run's data: removed by down
LOGS=$CACHE/logs            # one run's logs: kept after down, moved to logs.prev by the next up
KUBECONFIG_OUT=$CACHE/kubeconfig
HOST_BEFORE=$CACHE/host-before.env   # what this machine looked like before up, for down
KUBE_VERSION=${KUBE_VERSION:-1.34.12}
LOCK=/run/lock/goodput-cluster.lock

NETNS=goodput-node
NODE_NAME=goodput-node
HOST_IF=gp-host
NODE_IF=gp-node
BRIDGE=goodput0
NET=${GOODPUT_CLUSTER_NET:-10.253}
HOST_IP=$NET.0.1            # this machine's end of the veth
NODE_IP=$NET.0.2            # the node: apiserver, kubelet
POD_CIDR=$NET.1.0/24
POD_GW=$NET.1.1
SVC_CIDR=$NET.2.0/24
SVC_API_IP=$NET.2.1
CGROUP=goodput              # under every cgroup v1 hierarchy: control/ (the daemons) and kubepods/ (the pods)

TRAINER_IMAGE=goodput/trainer:dev-cpu
OPERATOR_IMAGE=goodput/operator:dev
SLOW_SAVE_IMAGE=goodput/trainer:e2e-slow-save   # test-only (cluster/images/trainer-slow-save.Containerfile)
PAUSE_IMAGE=goodput.local/pause:1
BASE_IMAGE=goodput.local/base:bookworm
OPERATOR_BASE_IMAGE=goodput.local/operator-base:bookworm
PV_COUNT=8                  # static hostPath volumes for claims without a storage class (no provisioner here)

# Global sysctls the kubelet (and kube-proxy) set at start; saved by up, restored once the node is up and by down.
SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops kernel.keys.root_maxkeys
         kernel.keys.root_maxbytes net.netfilter.nf_conntrack_max net.nf_conntrack_max)
DAEMONS=(containerd etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

log() { printf '[cluster %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
t0=$SECONDS
elapsed() { echo "$(( SECONDS - t0 ))s"; }

in_node() { nsenter --net="/run/netns/$NETNS" -- "$@"; }
# buildah's own store, and its network lock files in the cache (by default it makes /etc/cni/net.d on first use)
BUILDAH=(env CONTAINERS_CONF="$CACHE/buildah/containers.conf" buildah --root "$CACHE/buildah/root"
         --runroot "$CACHE/buildah/run" --storage-driver overlay)
CTR=(ctr --address /run/containerd/containerd.sock -n k8s.io)

cgroup_hierarchies() { # every cgroup (v1, and the hybrid v2) mount point
  awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/self/mounts
}

lock() {
  mkdir -p "$(dirname "$LOCK")"
  exec 8>"$LOCK"
  flock -w 900 8 || die "another .ci/cluster.sh holds $LOCK"
}

# ---- what the machine needs --------------------------------------------------------------------------------------
ensure_packages() {
  local need=() c
  declare -A pkg=([containerd]=containerd [runc]=runc [iptables]=iptables [conntrack]=conntrack [socat]=socat
                  [skopeo]=skopeo [umoci]=umoci [debootstrap]=debootstrap [buildah]=buildah [gcc]=gcc
                  [openssl]=openssl [curl]=curl [nsenter]=util-linux [flock]=util-linux)
  for c in "${!pkg[@]}"; do command -v "$c" >/dev/null || need+=("${pkg[$c]}"); done
  [[ -x /usr/lib/cni/bridge ]] || need+=(containernetworking-plugins)
  [[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || need+=(libc6-dev)
  if [[ ${#need[@]} -gt 0 ]]; then
    log "apt-get install ${need[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

ensure_binaries() {
  local out
  out=$(KUBE_VERSION=$KUBE_VERSION KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" \
        .ci/kube-binaries.sh) || die "building the Kubernetes binaries failed (see above)"
  BIN=$(tail -n1 <<<"$out")
  [[ -x $BIN/kubelet ]] || die "no kubelet in $BIN"
}

# The apt mirror this machine is configured with (deb822 .sources or one-line .list), for its own release.
apt_mirror() {
  local codename
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  {
    awk -v c="$codename" '
      function flush() { if (u != "" && (" " s " ") ~ (" " c " ")) print u; u = ""; s = "" }
      FNR == 1 { flush() } /^URIs:/ { u = $2 } /^Suites:/ { $1 = ""; s = $0 } /^[[:space:]]*$/ { flush() } END { flush() }
    ' /etc/apt/sources.list.d/*.sources 2>/dev/null
    { grep -h "^deb [^ ]* *[^ ]* $codename " /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
      | sed 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\).*/\2/'
  } | head -n1
}

have_image() { "${BUILDAH[@]}" inspect --type image "$1" >/dev/null 2>&1; }
sha_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

# Debian bookworm + openjdk-17-jre-headless (debootstrap), once per machine.
build_base() {
  local dir=$CACHE/base mirror
  if [[ ! -s $dir/rootfs.tar ]]; then
    mirror=$(apt_mirror)
    [[ -n $mirror ]] || die "no Debian mirror in /etc/apt/sources.list*"
    log "debootstrap bookworm + openjdk-17-jre-headless from the configured apt mirror (~1.5 min)"
    mkdir -p "$dir"; rm -rf "$dir/rootfs.tmp"
    debootstrap --variant=minbase --include=openjdk-17-jre-headless,ca-certificates bookworm "$dir/rootfs.tmp" \
      "$mirror" >"$dir/debootstrap.log" 2>&1 || die "debootstrap failed: $dir/debootstrap.log"
    rm -rf "$dir"/rootfs.tmp/var/cache/apt/archives/*.deb "$dir"/rootfs.tmp/var/lib/apt/lists/* \
      "$dir/rootfs.tmp/etc/hostname"
    : >"$dir/rootfs.tmp/etc/resolv.conf"
    tar -C "$dir/rootfs.tmp" --numeric-owner -cf "$dir/rootfs.tar.tmp" .
    mv "$dir/rootfs.tar.tmp" "$dir/rootfs.tar"; rm -rf "$dir/rootfs.tmp"
  fi
  if ! have_image "$BASE_IMAGE"; then
    local c
    c=$("${BUILDAH[@]}" from scratch)
    "${BUILDAH[@]}" add "$c" "$dir/rootfs.tar" / >/dev/null
    "${BUILDAH[@]}" config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      --env LANG=C.UTF-8 --env JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64 --cmd /bin/bash "$c"
    "${BUILDAH[@]}" commit -q --rm "$c" "$BASE_IMAGE" >/dev/null
    log "base image $BASE_IMAGE ready ($(elapsed))"
  fi
}

build_pause() {
  have_image "$PAUSE_IMAGE" && return
  local c
  mkdir -p "$CACHE/pause"
  gcc -static -Os -s -o "$CACHE/pause/pause" cluster/images/pause.c
  c=$("${BUILDAH[@]}" from scratch)
  "${BUILDAH[@]}" copy "$c" "$CACHE/pause/pause" /pause >/dev/null
  "${BUILDAH[@]}" config --entrypoint '["/pause"]' --user 65535:65535 "$c"
  "${BUILDAH[@]}" commit -q --rm "$c" "$PAUSE_IMAGE" >/dev/null
}

ensure_jars() {
  if [[ ! -s trainer-image/target/goodput-trainer.jar || ! -s operator/target/quarkus-app/quarkus-run.jar ]]; then
    log "mvn package (trainer-image, operator)"
    mvn -B -q -pl trainer-image,operator -am package -DskipTests
  fi
}

# buildah bud, offline: every FROM is a local image.
# (its network lock file goes to the cache, not /etc/cni; RUN steps use this machine's network, for apt-get)
bud() {
  "${BUILDAH[@]}" bud -q --isolation chroot --network host --cni-config-dir "$CACHE/buildah/cni" --pull-never \
    --layers=false "$@" >/dev/null
}

# image -> a docker-archive tar (buildah does not overwrite one: write a new file, then rename it)
export_image() {
  rm -f "$2.tmp"
  "${BUILDAH[@]}" push -q "$1" "docker-archive:$2.tmp:$1" >/dev/null
  mv -f "$2.tmp" "$2"
}

# The images' tar archives (docker-archive) in $CACHE/images, rebuilt when their inputs change.
build_images() {
  local force=${1:-}
  mkdir -p "$CACHE/images" "$CACHE/buildah/cni"
  printf '[network]\nnetwork_config_dir = "%s"\n' "$CACHE/buildah/cni" >"$CACHE/buildah/containers.conf"
  build_base
  build_pause
  ensure_jars
  local key
  # Trainer: the runtime stage of trainer-image/Dockerfile.cpu, as published, on the local base; its build stage
  # (Maven in a Maven image) is replaced by the jar mvn package made here.
  key=$(sha_of trainer-image/Dockerfile.cpu trainer-image/target/goodput-trainer.jar)
  if [[ -n $force || "$(cat "$CACHE/images/trainer.key" 2>/dev/null)" != "$key" ]] || ! have_image "$TRAINER_IMAGE"; then
    log "building $TRAINER_IMAGE from trainer-image/Dockerfile.cpu (runtime stage) on $BASE_IMAGE"
    local ctx=$CACHE/images/trainer-context
    rm -rf "$ctx"; mkdir -p "$ctx/trainer-image/target"
    ln trainer-image/target/goodput-trainer.jar "$ctx/trainer-image/target/" 2>/dev/null \
      || cp trainer-image/target/goodput-trainer.jar "$ctx/trainer-image/target/"
    awk 'BEGIN { n = 0 } /^FROM /{ n++ } { line[NR] = $0; from[NR] = n } END {
           for (i = 1; i <= NR; i++) if (from[i] == 0 && line[i] ~ /^ARG /) print line[i]
           for (i = 1; i <= NR; i++) if (from[i] == n) { l = line[i]; sub(/^COPY --from=build \/src\//, "COPY ", l); print l }
         }' trainer-image/Dockerfile.cpu >"$ctx/Dockerfile"
    grep -q 'COPY trainer-image/target/goodput-trainer.jar' "$ctx/Dockerfile" \
      || die "trainer-image/Dockerfile.cpu no longer copies the jar as expected; see $ctx/Dockerfile"
    bud --build-arg BASE_IMAGE="$BASE_IMAGE" -f "$ctx/Dockerfile" -t "$TRAINER_IMAGE" "$ctx"
    rm -rf "$ctx"
    export_image "$TRAINER_IMAGE" "$CACHE/images/trainer.tar"
    echo "$key" >"$CACHE/images/trainer.key"
  fi
  # The end-to-end tests' slow checkpoint store: one ENV line on top of the trainer image.
  key="$(cat "$CACHE/images/trainer.key")-$(sha_of cluster/images/trainer-slow-save.Containerfile)"
  if [[ -n $force || "$(cat "$CACHE/images/slow-save.key" 2>/dev/null)" != "$key" ]] || ! have_image "$SLOW_SAVE_IMAGE"; then
    log "building $SLOW_SAVE_IMAGE (test-only) on $TRAINER_IMAGE"
    bud --build-arg TRAINER_IMAGE="$TRAINER_IMAGE" -f cluster/images/trainer-slow-save.Containerfile -t "$SLOW_SAVE_IMAGE" cluster/images
    export_image "$SLOW_SAVE_IMAGE" "$CACHE/images/slow-save.tar"
    echo "$key" >"$CACHE/images/slow-save.key"
  fi
  # Operator: operator/src/main/docker/Dockerfile.jvm as published, on the local equivalent of its UBI base.
  key=$(cd operator && find target/quarkus-app -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
  key="$key-$(sha_of operator/src/main/docker/Dockerfile.jvm cluster/images/operator-base.Containerfile cluster/images/run-java.sh)"
  if [[ -n $force || "$(cat "$CACHE/images/operator.key" 2>/dev/null)" != "$key" ]] || ! have_image "$OPERATOR_IMAGE"; then
    log "building $OPERATOR_IMAGE from operator/src/main/docker/Dockerfile.jvm on $OPERATOR_BASE_IMAGE"
    bud --build-arg BASE_IMAGE="$BASE_IMAGE" -f cluster/images/operator-base.Containerfile -t "$OPERATOR_BASE_IMAGE" cluster/images
    bud --build-arg BASE_IMAGE="$OPERATOR_BASE_IMAGE" -f operator/src/main/docker/Dockerfile.jvm -t "$OPERATOR_IMAGE" operator
    export_image "$OPERATOR_IMAGE" "$CACHE/images/operator.tar"
    echo "$key" >"$CACHE/images/operator.key"
  fi
  if [[ ! -s $CACHE/images/pause.tar ]]; then
    export_image "$PAUSE_IMAGE" "$CACHE/images/pause.tar"
  fi
  log "images ready ($(elapsed))"
}

# Import into containerd the archives it does not hold yet (containerd's store, $CACHE/containerd, persists).
import_images() {
  local name tar ref key mark=$CACHE/containerd/.goodput-imported
  mkdir -p "$mark"
  for name in pause trainer slow-save operator; do
    tar=$CACHE/images/$name.tar
    # (containerd holds them under their fully qualified names: goodput/trainer:dev-cpu gets the default domain)
    case $name in pause) ref=$PAUSE_IMAGE ;; trainer) ref=$TRAINER_IMAGE ;; slow-save) ref=$SLOW_SAVE_IMAGE ;;
                  operator) ref=$OPERATOR_IMAGE ;; esac
    key=$(cat "$CACHE/images/$name.key" 2>/dev/null || stat -c %Y "$tar")
    if [[ "$(cat "$mark/$name" 2>/dev/null)" == "$key" ]] && "${CTR[@]}" images ls -q | grep -q -x -e "$ref" -e "[^/]*/$ref"; then
      continue
    fi
    log "importing $ref into containerd"
    "${CTR[@]}" images import "$tar" >/dev/null
    echo "$key" >"$mark/$name"
  done
}

# ---- certificates and configuration -----------------------------------------------------------------------------
pki() {
  local p=$STATE/pki
  mkdir -p "$p"; chmod 700 "$p"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj /CN=goodput-cluster-ca \
    -keyout "$p/ca.key" -out "$p/ca.crt" 2>/dev/null
  cert() { # name CN O [SANs]
    local ext=$p/$1.ext
    printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n' \
      "$([[ -n ${4:-} ]] && echo serverAuth,clientAuth || echo clientAuth)" >"$ext"
    [[ -z ${4:-} ]] || echo "subjectAltName=$4" >>"$ext"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=$2${3:+/O=$3}" \
      -keyout "$p/$1.key" -out "$p/$1.csr" 2>/dev/null
    openssl x509 -req -in "$p/$1.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial -days 30 \
      -extfile "$ext" -out "$p/$1.crt" 2>/dev/null
    rm -f "$p/$1.csr" "$ext"
  }
  cert apiserver kube-apiserver "" "IP:$NODE_IP,IP:$SVC_API_IP,IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  cert apiserver-kubelet-client goodput-apiserver-kubelet-client system:masters
  cert admin goodput-admin system:masters
  cert controller-manager system:kube-controller-manager
  cert scheduler system:kube-scheduler
  cert proxy system:kube-proxy
  cert kubelet "system:node:$NODE_NAME" system:nodes
  openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
  openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
}

kubeconfig() { # name server -> $STATE/<name>.kubeconfig
  local p=$STATE/pki
  cat >"$STATE/$1.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: goodput
  cluster:
    server: $2
    certificate-authority-data: $(base64 -w0 "$p/ca.crt")
users:
- name: $1
  user:
    client-certificate-data: $(base64 -w0 "$p/$1.crt")
    client-key-data: $(base64 -w0 "$p/$1.key")
contexts:
- name: goodput
  context: {cluster: goodput, user: $1}
current-context: goodput
EOF
  chmod 600 "$STATE/$1.kubeconfig"
}

write_configs() {
  mkdir -p "$STATE"/{cni/net.d,cni/ipam,kubelet,kubelet-pki,kubelet-plugins,pod-logs,etcd,certs,volumes}
  chmod 700 "$STATE/etcd"
  cat >"$STATE/containerd.toml" <<EOF
version = 2
root = "$CACHE/containerd"
state = "/run/containerd"
oom_score = 0
disabled_plugins = ["io.containerd.internal.v1.opt", "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing"]
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # root here lacks CAP_SYS_RESOURCE: runc cannot lower oom_score_adj below its own, so never ask it to.
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  enable_cdi = false
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
EOF
  # Pods on a bridge inside the node's namespace; their default route ends there (the namespace has none).
  cat >"$STATE/cni/net.d/10-goodput.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "goodput",
  "plugins": [
    {
      "type": "bridge", "bridge": "$BRIDGE", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "dataDir": "$STATE/cni/ipam",
        "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    }
  ]
}
EOF
  # The recycler pod that empties a released static volume: the trainer image (a Debian shell), as root.
  cat >"$STATE/recycler.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: pv-recycler
  namespace: default
spec:
  restartPolicy: Never
  activeDeadlineSeconds: 60
  volumes:
  - name: vol
    hostPath: {path: /replaced-by-the-recycler}
  containers:
  - name: pv-recycler
    image: $TRAINER_IMAGE
    imagePullPolicy: Never
    securityContext: {runAsUser: 0}
    command: ["/bin/sh", "-c", "rm -rf /scrub/..?* /scrub/.[!.]* /scrub/* && test -z \"\$(ls -A /scrub)\""]
    volumeMounts:
    - {name: vol, mountPath: /scrub}
EOF
  printf '# %s: no DNS server in this cluster; pods reach the API through KUBERNETES_SERVICE_HOST.\noptions ndots:1\n' \
    "$0" >"$STATE/resolv.conf"
  cat >"$STATE/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix:///run/containerd/containerd.sock
address: $NODE_IP
healthzBindAddress: 127.0.0.1
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $STATE/pki/ca.crt}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
cgroupRoot: /$CGROUP
cgroupsPerQOS: true
enforceNodeAllocatable: [pods]
failCgroupV1: false
failSwapOn: false
oomScoreAdj: 0
protectKernelDefaults: false
resolvConf: $STATE/resolv.conf
clusterDomain: cluster.local
podCIDR: $POD_CIDR
podLogsDir: $STATE/pod-logs
# This machine's disk and memory are not the cluster's to manage: never evict for them, never collect images.
evictionHard: {memory.available: "0%", nodefs.available: "0%", nodefs.inodesFree: "0%", imagefs.available: "0%"}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
serializeImagePulls: false
maxPods: 110
EOF
  cat >"$STATE/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $STATE/proxy.kubeconfig}
mode: iptables
clusterCIDR: $POD_CIDR
hostnameOverride: $NODE_NAME
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
# conntrack sysctls are this machine's: leave them as they are.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
EOF
}

# ---- network and cgroups -----------------------------------------------------------------------------------------
record_host() {
  [[ -s $HOST_BEFORE ]] && return  # a crashed run's record still describes the machine before it
  {
    echo "run_netns_existed=$([[ -d /run/netns ]] && echo 1 || echo 0)"
    echo "run_netns_mounted=$(mountpoint -q /run/netns 2>/dev/null && echo 1 || echo 0)"
    echo "run_containerd_existed=$([[ -e /run/containerd ]] && echo 1 || echo 0)"
    echo "var_log_containers_existed=$([[ -e /var/log/containers ]] && echo 1 || echo 0)"
    echo "var_lib_cni_existed=$([[ -e /var/lib/cni ]] && echo 1 || echo 0)"
    local s v
    for s in "${SYSCTLS[@]}"; do
      v=$(sysctl -n "$s" 2>/dev/null) && echo "sysctl_${s//[.]/_}='$s=$v'"
    done
  } >"$HOST_BEFORE.tmp"
  mv "$HOST_BEFORE.tmp" "$HOST_BEFORE"
}

restore_sysctls() {
  [[ -s $HOST_BEFORE ]] || return 0
  local line now changed=()
  while IFS= read -r line; do
    [[ $line == sysctl_* ]] || continue
    line=${line#*=}; line=${line//\'/}
    now=$(sysctl -n "${line%%=*}" 2>/dev/null) || continue
    [[ $now == "${line#*=}" ]] && continue
    sysctl -q -w "$line" >/dev/null 2>&1 && changed+=("${line%%=*} $now -> ${line#*=}")
  done <"$HOST_BEFORE"
  [[ ${#changed[@]} -eq 0 ]] || log "restored sysctls: ${changed[*]}"
}

setup_network() {
  ip netns add "$NETNS"
  ip link add "$HOST_IF" type veth peer name "$NODE_IF"
  ip link set "$NODE_IF" netns "$NETNS"
  ip addr add "$HOST_IP/30" dev "$HOST_IF"
  ip link set "$HOST_IF" up
  in_node ip link set lo up
  in_node ip addr add "$NODE_IP/30" dev "$NODE_IF"
  in_node ip link set "$NODE_IF" up
  # This machine reaches pods and Services through the veth; nothing else is routed anywhere.
  ip route add "$POD_CIDR" via "$NODE_IP" dev "$HOST_IF"
  ip route add "$SVC_CIDR" via "$NODE_IP" dev "$HOST_IF"
  in_node sysctl -q -w net.ipv4.ip_forward=1
}

setup_cgroups() {
  local h
  for h in $(cgroup_hierarchies); do
    mkdir -p "$h/$CGROUP/control"
    if [[ -f $h/cpuset.cpus ]]; then
      for f in cpuset.cpus cpuset.mems; do
        cat "$h/$f" >"$h/$CGROUP/$f"; cat "$h/$f" >"$h/$CGROUP/control/$f"
      done
    fi
  done
}

# start <name> <command...>: in the node's network namespace and the control cgroup, its own session, logs in $LOGS.
start() {
  local name=$1; shift
  (
    for h in $(cgroup_hierarchies); do echo "$BASHPID" >"$h/$CGROUP/control/cgroup.procs"; done
    exec 8>&-  # not the lock: it is held by this script only
    exec setsid nsenter --net="/run/netns/$NETNS" -- "$@" </dev/null
  ) >>"$LOGS/$name.log" 2>&1 &
  echo $! >"$STATE/pids/$name"
}

wait_for() { # description timeout command...
  local what=$1 limit=$2 i; shift 2
  for ((i = 0; i < limit * 5; i++)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  die "$what did not come up within ${limit}s (logs: $LOGS)"
}

alive() { local p; p=$(cat "$STATE/pids/$1" 2>/dev/null) && kill -0 "$p" 2>/dev/null; }

kubectl() { "$BIN/kubectl" --kubeconfig "$KUBECONFIG_OUT" "$@"; }
node_ready() {
  [[ "$(kubectl get node "$NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" == True ]]
}

# ---- up ----------------------------------------------------------------------------------------------------------
running() {
  [[ -f $STATE/running ]] || return 1
  local d
  for d in "${DAEMONS[@]}"; do alive "$d" || return 1; done
  curl -fsS -m 5 --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key" \
    "https://$NODE_IP:6443/readyz" >/dev/null 2>&1
}

leftovers() { # anything a previous run may have left
  [[ -e /run/netns/$NETNS || -d $STATE ]] && return 0
  ip link show "$HOST_IF" >/dev/null 2>&1 && return 0
  local h; for h in $(cgroup_hierarchies); do [[ -d $h/$CGROUP ]] && return 0; done
  return 1
}

up() {
  lock
  if running; then
    # A cluster left up (make cluster) serves whichever checkout runs next: its images must be this checkout's jars,
    # or an end-to-end run tests an operator other than the one it was built with. Both steps are no-ops when the
    # jars have not changed.
    log "already running; bringing its images up to date with this checkout's jars"
    ensure_binaries
    build_images
    import_images
    echo "$KUBECONFIG_OUT"; return 0
  fi
  [[ "$(id -u)" == 0 ]] || die "needs root (network namespaces, cgroups, mounts)"
  if leftovers; then log "cleaning up what a previous run left"; teardown; fi
  ensure_packages
  ensure_binaries
  build_images
  local bin_done=$SECONDS
  if [[ -S /run/containerd/containerd.sock ]] && ctr --address /run/containerd/containerd.sock version >/dev/null 2>&1; then
    die "a containerd this script did not start answers on /run/containerd/containerd.sock"
  fi
  [[ ! -d $LOGS ]] || { rm -rf "$LOGS.prev"; mv "$LOGS" "$LOGS.prev"; }
  mkdir -p "$LOGS" "$STATE/pids"
  record_host
  pki
  write_configs
  kubeconfig admin "https://$NODE_IP:6443"; cp "$STATE/admin.kubeconfig" "$KUBECONFIG_OUT"
  local c; for c in controller-manager scheduler proxy kubelet; do kubeconfig "$c" "https://$NODE_IP:6443"; done
  setup_network
  setup_cgroups
  log "network namespace $NETNS: node $NODE_IP, pods $POD_CIDR on $BRIDGE, services $SVC_CIDR"

  local p=$STATE/pki
  start containerd containerd --config "$STATE/containerd.toml"
  start etcd "$BIN/etcd" --name goodput --data-dir "$STATE/etcd" --unsafe-no-fsync \
    --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \
    --listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
    --initial-cluster goodput=http://127.0.0.1:2380 --listen-metrics-urls "" --log-level warn
  wait_for etcd 30 in_node curl -fsS http://127.0.0.1:2379/health
  start kube-apiserver "$BIN/kube-apiserver" --etcd-servers http://127.0.0.1:2379 \
    --bind-address 0.0.0.0 --secure-port 6443 --advertise-address "$NODE_IP" --cert-dir "$STATE/certs" \
    --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" --client-ca-file "$p/ca.crt" \
    --kubelet-client-certificate "$p/apiserver-kubelet-client.crt" --kubelet-client-key "$p/apiserver-kubelet-client.key" \
    --kubelet-preferred-address-types InternalIP \
    --service-account-issuer https://kubernetes.default.svc.cluster.local --service-account-key-file "$p/sa.pub" \
    --service-account-signing-key-file "$p/sa.key" --service-cluster-ip-range "$SVC_CIDR" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction,PodSecurity \
    --allow-privileged=false --profiling=false --v 1
  wait_for "containerd" 30 ctr --address /run/containerd/containerd.sock version
  # containers a crashed run left in containerd's store
  local ids; ids=$("${CTR[@]}" tasks ls -q 2>/dev/null || true)
  for c in $ids; do "${CTR[@]}" tasks kill -a -s SIGKILL "$c" >/dev/null 2>&1 || true; done
  [[ -z $ids ]] || "${CTR[@]}" tasks rm -f $ids >/dev/null 2>&1 || true
  ids=$("${CTR[@]}" containers ls -q 2>/dev/null || true)
  [[ -z $ids ]] || "${CTR[@]}" containers rm $ids >/dev/null 2>&1 || true
  import_images
  wait_for kube-apiserver 60 curl -fsS --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" "https://$NODE_IP:6443/readyz"
  start kube-controller-manager "$BIN/kube-controller-manager" --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/controller-manager.kubeconfig" --authorization-kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --cert-dir "$STATE/certs" --leader-elect=false \
    --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" --use-service-account-credentials \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" \
    --service-cluster-ip-range "$SVC_CIDR" --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false \
    --pv-recycler-pod-template-filepath-hostpath "$STATE/recycler.yaml" --flex-volume-plugin-dir "$STATE/kubelet-plugins" --v 1
  start kube-scheduler "$BIN/kube-scheduler" --kubeconfig "$STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/scheduler.kubeconfig" --authorization-kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --cert-dir "$STATE/certs" --leader-elect=false --v 1
  start kubelet "$BIN/kubelet" --config "$STATE/kubelet.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
    --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet-pki" \
    --volume-plugin-dir "$STATE/kubelet-plugins" --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --v 1
  start kube-proxy "$BIN/kube-proxy" --config "$STATE/kube-proxy.yaml" --v 1
  wait_for "node $NODE_NAME Ready" 90 node_ready
  wait_for "ServiceAccount default/default" 30 kubectl -n default get serviceaccount default
  restore_sysctls
  static_volumes
  touch "$STATE/running"
  log "cluster up in $(elapsed) ($(( SECONDS - bin_done ))s after the binaries and images were ready); kubeconfig: $KUBECONFIG_OUT"
  echo "$KUBECONFIG_OUT"
}

# Claims without a storage class bind to these (no provisioner runs here); world-writable for non-root pods. A
# released volume is emptied by kube-controller-manager's recycler pod (recycler.yaml) and bound again.
static_volumes() {
  local i
  for ((i = 1; i <= PV_COUNT; i++)); do
    mkdir -p "$STATE/volumes/pv$i"; chmod 1777 "$STATE/volumes/pv$i"
    cat <<EOF
---
apiVersion: v1
kind: PersistentVolume
metadata:
  name: goodput-local-$i
  labels: {goodput.dev/local-volume: "true"}
spec:
  capacity: {storage: 100Gi}
  accessModes: [ReadWriteOnce, ReadWriteMany]
  persistentVolumeReclaimPolicy: Recycle
  storageClassName: ""
  hostPath: {path: $STATE/volumes/pv$i, type: Directory}
EOF
  done | kubectl apply -f - 2>&1 >/dev/null | { grep -v "Recycle reclaim policy is deprecated" >&2 || true; }
}

# ---- down --------------------------------------------------------------------------------------------------------
stop_pid() { # pid seconds
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 10; i++)); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}

cgroup_pids() { # every process in our cgroup tree, any hierarchy
  local h
  for h in $(cgroup_hierarchies); do
    [[ -d $h/$CGROUP ]] && find "$h/$CGROUP" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -un
}

teardown() {
  local d pid i t1=$SECONDS
  # kubelet and the control plane first, then the pods' containers, then containerd. All data goes: 2 s to stop
  # on SIGTERM is plenty (kube-apiserver would otherwise drain for longer).
  local pids=()
  for d in kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver etcd; do
    pid=$(cat "$STATE/pids/$d" 2>/dev/null) && kill -0 "$pid" 2>/dev/null && pids+=("$pid")
  done
  if [[ ${#pids[@]} -gt 0 ]]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do kill -0 "${pids[@]}" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "${pids[@]}" 2>/dev/null || true
  fi
  if alive containerd; then
    local ids; ids=$("${CTR[@]}" tasks ls -q 2>/dev/null || true)
    for d in $ids; do "${CTR[@]}" tasks kill -a -s SIGKILL "$d" >/dev/null 2>&1 || true; done
    [[ -z $ids ]] || sleep 0.5
    [[ -z $ids ]] || "${CTR[@]}" tasks rm -f $ids >/dev/null 2>&1 || true
    ids=$("${CTR[@]}" containers ls -q 2>/dev/null || true)
    [[ -z $ids ]] || "${CTR[@]}" containers rm $ids >/dev/null 2>&1 || true
    stop_pid "$(cat "$STATE/pids/containerd")" 5
  fi
  # Whatever still runs in the node's cgroups or network namespace (a crashed run's shims, containers, daemons).
  for i in 1 2 3; do
    pid=$( { cgroup_pids; [[ -e /run/netns/$NETNS ]] && ip netns pids "$NETNS" 2>/dev/null; } | sort -un | tr '\n' ' ')
    [[ -n ${pid// } ]] || break
    kill -KILL $pid 2>/dev/null || true
    sleep 0.3
  done
  # Mounts: the pods' volumes and namespaces, containers' root filesystems (deepest first).
  local m
  for i in 1 2 3; do
    m=$(awk -v s="$STATE/" -v r=/run/containerd/ '{ gsub(/\\040/, " ", $2) } index($2 "/", s) == 1 || index($2 "/", r) == 1 { print $2 }' /proc/self/mounts | sort -r)
    [[ -n $m ]] || break
    while IFS= read -r d; do umount -l "$d" 2>/dev/null || true; done <<<"$m"
  done
  # cgroups, deepest first
  local h
  for h in $(cgroup_hierarchies); do
    [[ -d $h/$CGROUP ]] && find "$h/$CGROUP" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
  # network: the namespace (its veth end, bridge, pods' veths and iptables rules go with it), then our veth end
  [[ -e /run/netns/$NETNS ]] && ip netns del "$NETNS"
  ip link del "$HOST_IF" 2>/dev/null || true
  # host paths we made
  local run_netns_existed=1 run_netns_mounted=1 run_containerd_existed=1 var_log_containers_existed=1 var_lib_cni_existed=1
  if [[ -s $HOST_BEFORE ]]; then
    # shellcheck disable=SC1090
    eval "$(grep -E '^(run_netns_existed|run_netns_mounted|run_containerd_existed|var_log_containers_existed|var_lib_cni_existed)=[01]$' "$HOST_BEFORE")"
  fi
  if [[ $run_netns_mounted == 0 && -d /run/netns && -z "$(ls -A /run/netns)" ]]; then
    umount /run/netns 2>/dev/null || true
    [[ $run_netns_existed == 1 ]] || rmdir /run/netns 2>/dev/null || true
  fi
  [[ $run_containerd_existed == 1 ]] || rm -rf /run/containerd
  if [[ -d /var/log/containers ]]; then
    find /var/log/containers -maxdepth 1 -type l -lname "$STATE/*" -delete 2>/dev/null || true
    [[ $var_log_containers_existed == 1 ]] || rmdir /var/log/containers 2>/dev/null || true
  fi
  # containerd's CNI library caches each pod's result in /var/lib/cni/results/<network>-<id>-<if>
  # (network goodput, and containerd's own cni-loopback for the same sandbox ids)
  if [[ -d /var/lib/cni/results ]]; then
    local f id
    for f in /var/lib/cni/results/goodput-*; do
      [[ -e $f ]] || continue
      id=${f#/var/lib/cni/results/goodput-}; id=${id%-*}
      rm -f "$f" "/var/lib/cni/results/cni-loopback-$id-lo"
    done
    [[ $var_lib_cni_existed == 1 ]] || { rmdir /var/lib/cni/results /var/lib/cni 2>/dev/null || true; }
  fi
  restore_sysctls
  rm -rf "$STATE" "$KUBECONFIG_OUT" "$HOST_BEFORE"
}

check_clean() {
  local bad=()
  [[ -e /run/netns/$NETNS ]] && bad+=("network namespace $NETNS")
  ip link show "$HOST_IF" >/dev/null 2>&1 && bad+=("interface $HOST_IF")
  local h; for h in $(cgroup_hierarchies); do [[ -d $h/$CGROUP ]] && bad+=("cgroup $h/$CGROUP"); done
  grep -q -e " $STATE" -e " /run/containerd" /proc/self/mounts && bad+=("mounts under $STATE or /run/containerd")
  [[ -z "$(cgroup_pids)" ]] || bad+=("processes in cgroup $CGROUP")
  [[ -e $STATE ]] && bad+=("$STATE")
  if [[ ${#bad[@]} -gt 0 ]]; then log "left behind: ${bad[*]}"; return 1; fi
}

down() {
  lock
  if leftovers || [[ -s $HOST_BEFORE ]]; then
    teardown
    check_clean
    log "down in $(elapsed); logs of the last run: $LOGS"
  else
    log "no cluster"
  fi
}

status() {
  local d rc=0
  for d in "${DAEMONS[@]}"; do
    if alive "$d"; then printf '%-24s pid %s\n' "$d" "$(cat "$STATE/pids/$d")"; else printf '%-24s not running\n' "$d"; rc=3; fi
  done
  if running; then
    BIN=$(KUBE_VERSION=$KUBE_VERSION KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh 2>/dev/null | tail -n1)
    kubectl get nodes -o wide
    echo "kubeconfig: $KUBECONFIG_OUT"
  else
    rc=3
  fi
  return $rc
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  kubeconfig) echo "$KUBECONFIG_OUT"; [[ -f $KUBECONFIG_OUT ]] ;;
  images)
    lock; ensure_packages; build_images force
    if running; then import_images; fi ;;
  *) echo "usage: $0 up|down|status|kubeconfig|images" >&2; exit 2 ;;
esac
