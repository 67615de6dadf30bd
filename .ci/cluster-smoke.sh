#!/usr/bin/env bash
# Smoke check of the local cluster (.ci/cluster.sh up), no Maven: the trainer image runs, a restricted namespace
# admits the hardened pod, kubectl exec/logs work, delete delivers SIGTERM, and the chart's operator becomes Ready.
#   .ci/cluster-smoke.sh            the checks above
#   .ci/cluster-smoke.sh --example  also applies examples/fashion-mnist.yaml and follows it (prints what happens)
# Leaves its namespaces deleted and the operator uninstalled unless GOODPUT_SMOKE_KEEP=1.
set -uo pipefail
cd "$(dirname "$0")/.."
KUBECONFIG=$(.ci/cluster.sh kubeconfig) || { echo "no cluster: run .ci/cluster.sh up" >&2; exit 1; }
export KUBECONFIG
BIN=$(KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh 2>/dev/null | tail -n1)
HELM=${GOODPUT_HELM:-$HOME/.cache/goodput/helm/3.17.3/helm}
kubectl() { "$BIN/kubectl" "$@"; }
TRAINER=goodput/trainer:dev-cpu
NS=goodput-smoke
failed=0
pass() { printf 'PASS  %s\n' "$*"; }
fail() { printf 'FAIL  %s\n' "$*"; failed=$((failed + 1)); }
t() { date +%s.%N; }
phase_of() { kubectl -n "$1" get pod "$2" -o jsonpath='{.status.phase}' 2>/dev/null; }
wait_phase() { # ns pod seconds phases-regex
  local i
  for ((i = 0; i < $3 * 5; i++)); do [[ "$(phase_of "$1" "$2")" =~ ^($4)$ ]] && return 0; sleep 0.2; done
  return 1
}

kubectl delete ns "$NS" --ignore-not-found --wait >/dev/null
kubectl create ns "$NS" >/dev/null
kubectl label ns "$NS" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
for i in $(seq 50); do kubectl -n "$NS" get sa default >/dev/null 2>&1 && break; sleep 0.2; done

hardened() { # name, then the container's command as JSON
  cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $NS}
spec:
  restartPolicy: Never
  terminationGracePeriodSeconds: ${GRACE:-30}
  securityContext:
    runAsNonRoot: true
    runAsUser: 65532
    runAsGroup: 65532
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: main
    image: $TRAINER
    imagePullPolicy: Never
    command: $2
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    volumeMounts: [{name: tmp, mountPath: /tmp}, {name: job, mountPath: /etc/goodput}]
    resources: {requests: {cpu: 100m, memory: 256Mi}, limits: {memory: 1Gi}}
  volumes:
  - {name: tmp, emptyDir: {}}
  - {name: job, configMap: {name: job}}
EOF
}

# 1. the trainer image: java -version, Succeeded, logs readable
kubectl -n "$NS" create configmap job --from-file=job.yaml=examples/fashion-mnist.yaml >/dev/null
start=$(t)
hardened java-version '["java", "-version"]' | kubectl apply -f - >/dev/null
if wait_phase "$NS" java-version 60 'Succeeded|Failed' && [[ $(phase_of "$NS" java-version) == Succeeded ]]; then
  pass "trainer image: java -version Succeeded in $(printf '%.1f' "$(echo "$(t) - $start" | bc)")s: $(kubectl -n "$NS" logs java-version 2>&1 | head -n1)"
else
  fail "trainer image: java -version: phase $(phase_of "$NS" java-version); $(kubectl -n "$NS" describe pod java-version | tail -n 5)"
fi

# 2. restricted namespace admitted the hardened pod (it ran); the trainer validates the shipped example in the image
hardened validate '["java", "-Dai.djl.offline=true", "-jar", "/opt/goodput/goodput-trainer.jar", "validate", "/etc/goodput/job.yaml"]' \
  | kubectl apply -f - >/dev/null
if wait_phase "$NS" validate 90 'Succeeded|Failed' && [[ $(phase_of "$NS" validate) == Succeeded ]]; then
  pass "restricted namespace: uid 65532, read-only root, no capabilities, RuntimeDefault; trainer validate: $(kubectl -n "$NS" logs validate 2>&1 | tail -n1)"
else
  fail "trainer validate /etc/goodput/job.yaml: phase $(phase_of "$NS" validate): $(kubectl -n "$NS" logs validate 2>&1 | tail -n 5)"
fi
out=$(printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: root, namespace: %s}\nspec: {containers: [{name: c, image: %s, imagePullPolicy: Never}]}\n' "$NS" "$TRAINER" \
  | kubectl apply -f - 2>&1)
if grep -q 'violates PodSecurity "restricted' <<<"$out"; then pass "restricted namespace refuses a pod without the hardening"; else fail "PodSecurity admitted a plain pod: $out"; fi

# 3. exec, and SIGTERM on delete (then SIGKILL at the grace period)
GRACE=5 hardened sigterm '["/bin/sh", "-c", "trap \"echo got SIGTERM; sleep 60\" TERM; echo started; while :; do sleep 0.05; done"]' \
  | kubectl apply -f - >/dev/null
if wait_phase "$NS" sigterm 60 Running; then
  who=$(kubectl -n "$NS" exec sigterm -- id 2>&1)
  [[ $who == uid=65532* ]] && pass "exec: $who" || fail "exec: $who"
  sleep 1
  kubectl -n "$NS" logs -f sigterm >"/tmp/goodput-smoke-sigterm.$$" 2>&1 &
  lp=$!
  sleep 1
  start=$(t)
  kubectl -n "$NS" delete pod sigterm --wait=false >/dev/null
  for i in $(seq 100); do grep -q 'got SIGTERM' "/tmp/goodput-smoke-sigterm.$$" && break; sleep 0.05; done
  got=$(t)
  kubectl -n "$NS" wait --for=delete pod/sigterm --timeout=60s >/dev/null 2>&1
  gone=$(t)
  kill "$lp" 2>/dev/null
  if grep -q 'got SIGTERM' "/tmp/goodput-smoke-sigterm.$$"; then
    pass "delete: SIGTERM after $(echo "$got - $start" | bc | xargs printf '%.2f')s, pod gone after $(echo "$gone - $start" | bc | xargs printf '%.1f')s (grace 5s, the trap ignores TERM)"
  else
    fail "delete: no SIGTERM seen: $(cat "/tmp/goodput-smoke-sigterm.$$")"
  fi
  rm -f "/tmp/goodput-smoke-sigterm.$$"
else
  fail "sigterm pod not Running: $(kubectl -n "$NS" describe pod sigterm | tail -n 5)"
fi

# 3b. nothing leaves the machine: from a pod, an address off the machine (TEST-NET-2) is unreachable at once
hardened offnet '["/bin/bash", "-c", "timeout 5 bash -c \"echo > /dev/tcp/198.51.100.1/80\" 2>&1; exit 0"]' | kubectl apply -f - >/dev/null
if wait_phase "$NS" offnet 60 'Succeeded|Failed' && out=$(kubectl -n "$NS" logs offnet 2>&1) && grep -q 'Network is unreachable' <<<"$out"; then
  pass "a pod's packet to 198.51.100.1: $(head -n1 <<<"$out" | sed 's/.*: //')"
else
  fail "a pod reaching 198.51.100.1: phase $(phase_of "$NS" offnet): ${out:-}"
fi
if ! nsenter --net=/run/netns/goodput-node ip route get 198.51.100.1 >/dev/null 2>&1 && ! nsenter --net=/run/netns/goodput-node ip route | grep -q '^default'; then
  pass "the node's namespace has no default route: $(nsenter --net=/run/netns/goodput-node ip route | tr '\n' ';')"
else
  fail "the node's namespace routes off the machine: $(nsenter --net=/run/netns/goodput-node ip route | tr '\n' ';')"
fi
if false; then
  fail "sigterm pod not Running: $(kubectl -n "$NS" describe pod sigterm | tail -n 5)"
fi

# 4. the chart's operator from the local image: Ready, and it talks to the API server through the kubernetes Service
"$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1
kubectl delete crd trainingjobs.goodput.dev --ignore-not-found >/dev/null 2>&1
start=$(t)
if out=$("$HELM" install goodput helm/goodput --namespace goodput-system --create-namespace \
      --set image.repository=goodput/operator --set image.tag=dev --set image.pullPolicy=Never \
      --set trainer.image.repository=goodput/trainer --set trainer.image.tag=dev --set trainer.image.flavor=cpu \
      ${GOODPUT_SMOKE_HELM_ARGS:-} --wait --timeout 3m 2>&1); then
  pass "helm install: operator Ready after $(echo "$(t) - $start" | bc | xargs printf '%.0f')s"
else
  fail "helm install: $out"
fi
kubectl -n goodput-system get pods -o wide
oplog=$(kubectl -n goodput-system logs deploy/goodput --tail=400 2>&1)
if kubectl -n goodput-system get lease goodput >/dev/null 2>&1; then
  pass "operator talks to the API server (its leader Lease goodput-system/goodput exists; holder $(kubectl -n goodput-system get lease goodput -o jsonpath='{.spec.holderIdentity}'))"
else
  fail "operator: no leader Lease; log tail: $(tail -n 20 <<<"$oplog")"
fi

# 5. the shipped example, as shipped (optional: it trains for minutes)
if [[ ${1:-} == --example ]]; then
  kubectl delete trainingjob fashion-mnist -n default --ignore-not-found --wait >/dev/null 2>&1
  kubectl apply -n default -f examples/fashion-mnist.yaml
  for i in $(seq "${GOODPUT_SMOKE_EXAMPLE_SECONDS:-120}"); do
    sleep 1
    (( i % 15 == 0 )) || continue
    echo "--- ${i}s"
    kubectl -n default get trainingjob fashion-mnist -o wide 2>&1 | tail -n 2
    kubectl -n default get pods,pvc -o wide 2>&1 | grep -v '^NAME' | head
    phase=$(kubectl -n default get trainingjob fashion-mnist -o jsonpath='{.status.phase}' 2>/dev/null)
    [[ $phase == Succeeded || $phase == Failed ]] && break
  done
  kubectl -n default get trainingjob fashion-mnist -o yaml | sed -n '/^status:/,$p'
  kubectl -n default get events --sort-by=.lastTimestamp 2>&1 | tail -n 20
fi

if [[ ${GOODPUT_SMOKE_KEEP:-0} != 1 ]]; then
  kubectl delete ns "$NS" --wait=false >/dev/null
fi
echo "$failed check(s) failed"
exit $(( failed > 0 ))
