#!/usr/bin/env bash
# What the real single-node cluster of .ci/cluster.sh measures, N runs each (median reported):
#   apply -> first training step      TrainingJob created -> the trainer's first step line in its pod's log
#   preemption -> next first step     the running pod deleted -> the next attempt's first step line
#   SIGTERM -> checkpoint -> exit     the pod deleted -> its container's finishedAt (the trainer checkpoints first)
# Writes bench/results/cluster-latency-<date>.md.   bench/cluster/latency.sh [--runs 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=3
[[ ${1:-} == --runs ]] && runs=$2
.ci/cluster.sh up >/dev/null
KUBECONFIG=$(.ci/cluster.sh kubeconfig); export KUBECONFIG
BIN=$(KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh 2>/dev/null | tail -n1)
HELM=${GOODPUT_HELM:-$HOME/.cache/goodput/helm/3.17.3/helm}
kubectl() { "$BIN/kubectl" "$@"; }
NS=latency
commit=$(git rev-parse --short HEAD) load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# Jobs first, while the operator still runs: it holds a finalizer on each trainer pod until it has recorded its end.
cleanup() {
  kubectl -n "$NS" delete tj --all --wait --timeout 2m >/dev/null 2>&1 || true
  kubectl delete ns "$NS" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  "$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1 || true
kubectl delete ns "$NS" --ignore-not-found --wait >/dev/null
kubectl create ns "$NS" >/dev/null
"$HELM" install goodput helm/goodput --namespace goodput-system --create-namespace \
  --set image.repository=goodput/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set trainer.image.repository=goodput/trainer --set trainer.image.tag=dev --set trainer.image.flavor=cpu \
  --wait --timeout 3m >/dev/null

# RFC 3339 (with up to nanoseconds, as kubectl logs --timestamps prints them) -> ms since the epoch.
epoch_ms() { python3 -c 'import sys, re, datetime; m = re.match(r"(.{19})(\.\d+)?Z", sys.argv[1]); t = datetime.datetime.fromisoformat(m.group(1) + "+00:00").timestamp() + float(m.group(2) or 0); print(int(t * 1000))' "$1"; }
# Timestamp of the first training-step line of a pod's log ("step N/total", printed at its first step), in ms.
first_step_ms() {
  local pod=$1 line
  for _ in $(seq 600); do
    line=$(kubectl -n "$NS" logs "$pod" --timestamps 2>/dev/null | grep -m1 -E ' step [0-9]+/' || true)
    [[ -n $line ]] && { epoch_ms "${line%% *}"; return; }
    sleep 0.2
  done
  echo "no first step in $pod" >&2; exit 1
}
apply_ms=() preempt_ms=() exit_ms=() codes=()
for i in $(seq "$runs"); do
  job=lat-$i
  created_exact=$(date +%s%3N)   # just before kubectl apply (creationTimestamp has whole seconds only)
  cat <<YAML | kubectl -n "$NS" apply -f - >/dev/null
apiVersion: goodput.dev/v1alpha1
kind: TrainingJob
metadata: {name: $job}
spec:
  model: {architecture: mlp, width: 64}
  data: {path: /usr/share/datasets/fashion-mnist, trainLimit: 6400, testLimit: 1000}
  training: {maxSteps: 1000000, globalBatchSize: 64, batchSize: 64, optimizer: {name: adamw, lr: 0.002}, threads: 1}
  checkpoint: {interval: 5s}
  resources: {gpus: 0, cpu: 500m, memory: 2Gi}
YAML
  until kubectl -n "$NS" get pod "$job-1" >/dev/null 2>&1; do sleep 0.2; done
  s1=$(first_step_ms "$job-1")
  apply_ms+=($(( s1 - created_exact )))
  sleep 8   # a periodic checkpoint exists
  t0=$(date +%s%3N)
  kubectl -n "$NS" delete pod "$job-1" --wait=false >/dev/null
  for _ in $(seq 600); do
    fin=$(kubectl -n "$NS" get pod "$job-1" -o jsonpath='{.status.containerStatuses[0].state.terminated.finishedAt}' 2>/dev/null || true)
    code=$(kubectl -n "$NS" get pod "$job-1" -o jsonpath='{.status.containerStatuses[0].state.terminated.exitCode}' 2>/dev/null || true)
    [[ -n $fin ]] && break; sleep 0.1
  done
  codes+=("${code:-gone}")
  # finishedAt has whole seconds; measure also by the local clock when the status showed it
  exit_ms+=($(( $(date +%s%3N) - t0 )))
  until kubectl -n "$NS" get pod "$job-2" >/dev/null 2>&1; do sleep 0.2; done
  s2=$(first_step_ms "$job-2")
  preempt_ms+=($(( s2 - t0 )))
  kubectl -n "$NS" delete tj "$job" --wait --timeout 2m >/dev/null
  echo "run $i: apply->first step $(( s1 - created_exact )) ms, delete->exit seen $(( ${exit_ms[-1]} )) ms (exit ${codes[-1]}), delete->next first step $(( s2 - t0 )) ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
out=bench/results/cluster-latency-$(date -u +%Y-%m-%d-%H%M).md
{
  echo "# Latencies on the real single-node cluster"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); commit $commit"
  echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), the node on the same machine (.ci/cluster.sh); load average before $load_before, after $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- command: \`bench/cluster/latency.sh --runs $runs\`"
  echo "- job: MLP width 64 on 6,400 Fashion-MNIST examples, batch 64, 1 thread, checkpoint every 5 s; the chart's operator; images built locally"
  echo "- how: apply -> the pod log's first \`step N/\` line (kubelet log timestamps); \`kubectl delete pod\` -> the container's terminated state seen in the API (the trainer finishes its step and checkpoints first) and -> the next attempt's first step line"
  echo
  echo "| what | median (ms) | runs (ms) |"
  echo "|---|---:|---|"
  echo "| apply -> first training step | $(median "${apply_ms[@]}") | ${apply_ms[*]} |"
  echo "| pod deleted (preemption) -> next attempt's first training step | $(median "${preempt_ms[@]}") | ${preempt_ms[*]} |"
  echo "| SIGTERM (pod deleted) -> checkpoint durable -> exit seen in pod status | $(median "${exit_ms[@]}") | ${exit_ms[*]} |"
  echo
  echo "Exit codes of the deleted pods: ${codes[*]} (75 = stopped after a durable checkpoint)."
} > "$out"
echo "$out"
