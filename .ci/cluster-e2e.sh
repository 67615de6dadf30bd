#!/usr/bin/env bash
# End-to-end on the local cluster (.ci/cluster.sh), as the README's "On a cluster" says it: the chart installs the
# operator from the local image into a namespace that enforces the restricted Pod Security level, and
# examples/fashion-mnist.yaml, applied as shipped in another such namespace, reaches Succeeded with test accuracy
# >= 0.916 in status and real values in `kubectl get tj`; deleting the job and uninstalling the chart leave no pod,
# finalizer or claim behind. Exit 0 when all of that holds; 1 with the job's status and events otherwise.
#   .ci/cluster-e2e.sh
# Env: GOODPUT_E2E_TIMEOUT (seconds, default 1800), GOODPUT_E2E_FAIL_FAST (default 1: stop at the first failed
# attempt instead of waiting for the operator's retries), GOODPUT_E2E_KEEP=1 (leave the release and namespace).
# GOODPUT_E2E_HELM_ARGS (more helm install arguments, e.g. --set trainer.image.tag=...).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/cluster.sh up >/dev/null
KUBECONFIG=$(.ci/cluster.sh kubeconfig); export KUBECONFIG
BIN=$(KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh 2>/dev/null | tail -n1)
HELM=${GOODPUT_HELM:-$HOME/.cache/goodput/helm/3.17.3/helm}
kubectl() { "$BIN/kubectl" "$@"; }
NS=ml   # the README's namespace
JOB=fashion-mnist
TIMEOUT=${GOODPUT_E2E_TIMEOUT:-1800}
log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*"; }

cleanup() {
  [[ ${GOODPUT_E2E_KEEP:-0} == 1 ]] && return
  kubectl delete ns "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1 || true
}
report() {
  kubectl -n "$NS" get trainingjob "$JOB" -o yaml 2>&1 | sed -n '/^status:/,$p'
  kubectl -n "$NS" get pods,pvc -o wide 2>&1
  kubectl -n "$NS" get events --sort-by=.lastTimestamp 2>&1 | tail -n 15
  kubectl -n goodput-system logs deploy/goodput --tail=30 2>&1
}
trap cleanup EXIT

"$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1 || true
kubectl delete ns "$NS" --ignore-not-found --wait >/dev/null
kubectl create ns "$NS" >/dev/null
kubectl label ns "$NS" pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
# The operator's namespace enforces it too: the chart's pod must pass the restricted level as well.
kubectl create ns goodput-system --dry-run=client -o yaml | kubectl apply -f - >/dev/null
kubectl label ns goodput-system --overwrite pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
fail() { log "FAILED: $*"; report; exit 1; }

# The README's command, with the images this machine built instead of a registry's.
log "helm install goodput (operator goodput/operator:dev, trainer goodput/trainer:dev-cpu)"
"$HELM" install goodput helm/goodput --namespace goodput-system --create-namespace \
  --set image.repository=goodput/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set trainer.image.repository=goodput/trainer --set trainer.image.tag=dev --set trainer.image.flavor=cpu \
  ${GOODPUT_E2E_HELM_ARGS:-} --wait --timeout 3m >/dev/null
log "operator Ready; kubectl apply -f examples/fashion-mnist.yaml in $NS (restricted)"
kubectl -n "$NS" apply -f examples/fashion-mnist.yaml >/dev/null

start=$SECONDS phase="" last=""
while (( SECONDS - start < TIMEOUT )); do
  sleep 5
  phase=$(kubectl -n "$NS" get trainingjob "$JOB" -o jsonpath='{.status.phase}' 2>/dev/null || true)
  [[ $phase == Succeeded || $phase == Failed ]] && break
  if [[ ${GOODPUT_E2E_FAIL_FAST:-1} == 1 ]]; then
    failed=$(kubectl -n "$NS" get events --field-selector reason=AttemptFailed -o jsonpath='{.items[*].message}' 2>/dev/null || true)
    if [[ -n $failed ]]; then log "an attempt failed: $failed"; report; exit 1; fi
  fi
  if (( SECONDS - start - last >= 60 )); then
    last=$(( SECONDS - start ))
    pod=$(kubectl -n "$NS" get pods -o jsonpath='{range .items[*]}{.metadata.name} {.status.phase}{"\n"}{end}' 2>/dev/null | tail -n1)
    log "${last}s: job ${phase:-?}, pod ${pod:-none}: $(kubectl -n "$NS" logs "${pod%% *}" --tail=1 2>/dev/null | tr '\r' '\n' | tail -n1 | cut -c1-120)"
  fi
done
log "job $JOB: ${phase:-no phase} after $(( SECONDS - start ))s"
if [[ $phase != Succeeded ]]; then report; exit 1; fi

# What the user sees: the target reached in status, and the printer columns filled in.
best=$(kubectl -n "$NS" get trainingjob "$JOB" -o jsonpath='{.status.progress.bestMetric}')
reason=$(kubectl -n "$NS" get trainingjob "$JOB" -o jsonpath='{.status.conditions[?(@.type=="Complete")].reason}')
log "status: Complete=$reason, best test accuracy $best"
[[ $reason == TargetReached ]] || fail "condition Complete has reason '$reason', not TargetReached"
python3 -c "import sys; sys.exit(0 if float('$best') >= 0.916 else 1)" || fail "test accuracy $best < 0.916"
row=$(kubectl -n "$NS" get tj "$JOB" --no-headers)
echo "$(kubectl -n "$NS" get tj "$JOB" | head -1)"; echo "$row"
read -r name ph step epoch sps cost age <<<"$row"
[[ $ph == Succeeded && $step =~ ^[0-9]+$ && $step -gt 0 && $epoch =~ ^[0-9]+$ && $sps =~ ^[0-9]+(\.[0-9])?$ && $cost =~ ^[0-9.]+$ ]] \
  || fail "kubectl get tj row '$row' lacks real values"

# Deleting the job takes its pods and its checkpoint claim with it; uninstalling the chart leaves no operator pod.
kubectl -n "$NS" delete trainingjob "$JOB" --wait --timeout 2m >/dev/null || fail "the TrainingJob was not deleted"
for _ in $(seq 60); do
  left=$(kubectl -n "$NS" get pods,pvc -o name 2>/dev/null)
  [[ -z $left ]] && break; sleep 2
done
[[ -z $left ]] || fail "left behind by the deleted job: $left"
"$HELM" uninstall goodput -n goodput-system --wait --timeout 2m >/dev/null || fail "helm uninstall failed"
for _ in $(seq 60); do
  left=$(kubectl -n goodput-system get pods -o name 2>/dev/null)
  [[ -z $left ]] && break; sleep 2
done
[[ -z $left ]] || fail "left behind by helm uninstall: $left"
finalized=$(kubectl get pods -A -o jsonpath='{range .items[?(@.metadata.finalizers)]}{.metadata.namespace}/{.metadata.name} {end}')
[[ -z $finalized ]] || fail "pods with finalizers left: $finalized"
log "passed: helm install, the example to its target in restricted namespaces, nothing left after delete and uninstall"
