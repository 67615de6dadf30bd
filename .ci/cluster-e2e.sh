#!/usr/bin/env bash
# End-to-end on the local cluster (.ci/cluster.sh): the chart installs the operator from the local image, and
# examples/fashion-mnist.yaml, applied as shipped in a namespace that enforces the restricted Pod Security level,
# reaches Succeeded. Exit 0 on Succeeded; 1 with the job's status and events otherwise.
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
NS=goodput-e2e
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
kubectl -n "$NS" get trainingjob "$JOB" -o wide
