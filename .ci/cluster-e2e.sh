#!/usr/bin/env bash
# End-to-end on the local cluster (.ci/cluster.sh), each check on what a user sees (kubectl, status, events, metrics):
#   1. install   `helm install` of helm/goodput as the README says, the operator from the local image under the
#                chart's ServiceAccount and RBAC; `helm uninstall` at the end leaves no pod, finalizer or claim.
#   2. example   examples/fashion-mnist.yaml, applied as shipped, reaches Succeeded (TargetReached) with test accuracy
#                >= 0.916 in status and real values in `kubectl get tj`.
#   3. preemption cluster/e2e/preempted.yaml is preempted by the scheduler for a higher-priority pod
#                (PreemptionByScheduler), then evicted through the Eviction API (EvictionByEvictionAPI); 2 preemptions,
#                no failure, every attempt resumes from its predecessor's checkpoint, and the final parameters equal,
#                byte for byte, those of an uninterrupted run of the same file on this machine.
#   4. slow-save cluster/e2e/slow-save.yaml saves in 40 s (test-only slow store); its pod is deleted mid-run: the save
#                completes within the grace period the operator gave the pod, and the trainer exits 75.
#   5. out-of-memory cluster/e2e/out-of-memory.yaml is OOMKilled: a failure, retried after the back-off, then Failed
#                with a message that says it ran out of memory and what to change.
#   6. restricted every namespace the chart and the jobs run in enforces Pod Security "restricted".
#   8. workers    cluster/e2e/workers.yaml trains on two pods (c10d between them); rank 1's pod is evicted mid-run:
#                the gang restarts as one attempt (1 preemption, no failure) and the final parameters equal, byte for
#                byte, those of an uninterrupted two-process run of the same file on this machine.
#   7. prometheus Prometheus finds the real pods through Kubernetes service discovery with the chart's PodMonitor and
#                ServiceMonitor translated as the Prometheus Operator does (.ci/e2e-prometheus.py), and every dashboard
#                query returns the jobs' data.
# Exit 0 when all of that holds; 1 with the failing job's status, pods and events otherwise.
#   .ci/cluster-e2e.sh
# Env: GOODPUT_E2E_ONLY (a subset of: slow-save out-of-memory example preemption workers; install, restricted and prometheus
# always run), GOODPUT_E2E_KEEP=1 (leave the release, the namespace and Prometheus), GOODPUT_E2E_HELM_ARGS (more helm
# install arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/cluster.sh up >/dev/null
KUBECONFIG=$(.ci/cluster.sh kubeconfig); export KUBECONFIG
BIN=$(KUBE_EXTRA_BINARIES="kubelet kube-proxy kube-scheduler kube-controller-manager" .ci/kube-binaries.sh 2>/dev/null | tail -n1)
HELM=${GOODPUT_HELM:-$HOME/.cache/goodput/helm/3.17.3/helm}
PROMETHEUS=${GOODPUT_PROMETHEUS:-$(.ci/prometheus-binary.sh)}   # with Kubernetes service discovery
TRAINER_JAR=trainer-image/target/goodput-trainer.jar
kubectl() { "$BIN/kubectl" "$@"; }
NS=ml   # the README's namespace
ONLY=${GOODPUT_E2E_ONLY:-slow-save out-of-memory example preemption workers}
WORK=$(mktemp -d /tmp/goodput-e2e.XXXXXX)
PROM_PORT=19090   # loopback only
log() { printf '[e2e %s] %s\n' "$(date +%T)" "$*"; }
want() { [[ " $ONLY " == *" $1 "* ]]; }

cleanup() {
  [[ -n ${PROM_PID:-} ]] && { kill "$PROM_PID" 2>/dev/null || true; wait "$PROM_PID" 2>/dev/null || true; }
  [[ -n ${REF_PID:-} ]] && { kill "$REF_PID" 2>/dev/null || true; }
  for p in ${WREF_PIDS:-}; do kill "$p" 2>/dev/null || true; done
  kubectl delete priorityclass goodput-e2e-urgent --ignore-not-found >/dev/null 2>&1 || true
  if [[ ${GOODPUT_E2E_KEEP:-0} != 1 ]]; then
    remove_jobs_then_operator
    rm -rf "$WORK"
  fi
}
# The jobs first, while the operator still runs to release their finalizers; then the namespace and the release.
# (Jobs left by a run whose operator is gone keep their finalizer: it is removed here.)
remove_jobs_then_operator() {
  kubectl -n "$NS" delete trainingjob --all --wait --timeout 2m >/dev/null 2>&1 || true
  for j in $(kubectl -n "$NS" get trainingjob -o name 2>/dev/null); do
    kubectl -n "$NS" patch "$j" --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1 || true
  done
  kubectl delete ns "$NS" --ignore-not-found --wait --timeout 2m >/dev/null 2>&1 || true
  "$HELM" uninstall goodput -n goodput-system --wait >/dev/null 2>&1 || true
}
trap cleanup EXIT

report() { # job: its status, pods and events, the operator's log
  kubectl -n "$NS" get trainingjob "$1" -o yaml 2>&1 | sed -n '/^status:/,$p'
  kubectl -n "$NS" get pods,pvc -o wide 2>&1
  kubectl -n "$NS" get events --sort-by=.lastTimestamp 2>&1 | tail -n 20
  kubectl -n goodput-system logs deploy/goodput --tail=30 2>&1
}
fail() { log "FAILED: $2"; report "$1"; exit 1; }
status_of() { kubectl -n "$NS" get trainingjob "$1" -o jsonpath="{.status.$2}" 2>/dev/null || true; }
# assert JOB PYTHON-EXPRESSION MESSAGE: the expression, over the job's status as `s`, must be true.
assert() {
  kubectl -n "$NS" get trainingjob "$1" -o json | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
h = s.get("attemptHistory", [])
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" || fail "$1" "$3"
}
# wait_phase JOB PHASE TIMEOUT [FAILURES_EXPECTED]: until the job is in PHASE; an attempt failing on the way ends the
# test at once unless failures are what the scenario is about.
wait_phase() {
  local job=$1 want_phase=$2 timeout=$3 failures_ok=${4:-0} start=$SECONDS phase last=0
  while (( SECONDS - start < timeout )); do
    phase=$(status_of "$job" phase)
    [[ $phase == "$want_phase" ]] && { log "$job: $phase after $(( SECONDS - start ))s"; return; }
    [[ $phase == Succeeded || $phase == Failed ]] && fail "$job" "$job is $phase, not $want_phase"
    if [[ $failures_ok == 0 && -n $(kubectl -n "$NS" get events --field-selector "involvedObject.name=$job,reason=AttemptFailed" -o name 2>/dev/null) ]]; then
      fail "$job" "an attempt of $job failed"
    fi
    if (( SECONDS - start - last >= 60 )); then
      last=$(( SECONDS - start ))
      log "${last}s: $job ${phase:-?}, step $(status_of "$job" progress.step)"
    fi
    sleep 2
  done
  fail "$job" "$job not $want_phase after ${timeout}s"
}
# wait_until JOB TIMEOUT DESCRIPTION PYTHON-EXPRESSION: polls the status until the expression holds.
wait_until() {
  local job=$1 timeout=$2 what=$3 expr=$4 start=$SECONDS
  while (( SECONDS - start < timeout )); do
    if kubectl -n "$NS" get trainingjob "$job" -o json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin).get("status", {})
h = s.get("attemptHistory", [])
sys.exit(0 if eval(sys.argv[1]) else 1)' "$expr" 2>/dev/null; then return; fi
    sleep 1
  done
  fail "$job" "$job: not $what after ${timeout}s"
}
pod_of() { kubectl -n "$NS" get pods -l "goodput.dev/job=$1,goodput.dev/attempt=$2" -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }
# evict POD: through the Eviction API, as a node drain or the descheduler does.
evict() {
  kubectl create --raw "/api/v1/namespaces/$NS/pods/$1/eviction" -f - >/dev/null <<EOF
{"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "$1", "namespace": "$NS"}}
EOF
}
# attempts_of JOB: one line per attempt (outcome, reason, exit code, steps).
attempts_of() {
  kubectl -n "$NS" get tj "$1" -o jsonpath='{range .status.attemptHistory[*]}{"  attempt "}{.attempt}{": "}{.outcome}{" "}{.reason}{", exit "}{.exitCode}{", steps "}{.startStep}{"-"}{.endStep}{"\n"}{end}'
}
# wait_scraped JOB ATTEMPT: waits until Prometheus holds a trainer series of that attempt. An attempt this test
# interrupts may live for less than the time service discovery and the first scrape take on a loaded machine; the
# check in part 7 that the attempts were scraped with their labels must test the labelling, not that race.
WAITED_SCRAPED=""   # JOB#ATTEMPT of each attempt wait_scraped saw scraped
wait_scraped() {
  local start=$SECONDS
  while (( SECONDS - start < 90 )); do
    curl -fsS "$PROM/api/v1/query" --data-urlencode \
      "query=count(goodput_trainer_steps_total{namespace=\"$NS\",job=\"$1\",attempt=\"$2\"})" 2>/dev/null \
      | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["data"]["result"] else 1)' 2>/dev/null \
      && { WAITED_SCRAPED+=" $1#$2"; return; }
    sleep 1
  done
  fail "$1" "Prometheus did not scrape $1 attempt $2 within 90 s"
}

# ---- 1 and 6: the chart into restricted namespaces ---------------------------------------------------------------
remove_jobs_then_operator   # what an earlier run with GOODPUT_E2E_KEEP=1 left
for ns in "$NS" goodput-system; do
  kubectl create ns "$ns" --dry-run=client -o yaml | kubectl apply -f - >/dev/null
  kubectl label ns "$ns" --overwrite pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest >/dev/null
done
log "helm install goodput (operator goodput/operator:dev, trainer goodput/trainer:dev-cpu)"
"$HELM" install goodput helm/goodput --namespace goodput-system --create-namespace \
  --set image.repository=goodput/operator --set image.tag=dev --set image.pullPolicy=Never \
  --set trainer.image.repository=goodput/trainer --set trainer.image.tag=dev --set trainer.image.flavor=cpu \
  ${GOODPUT_E2E_HELM_ARGS:-} --wait --timeout 3m >/dev/null
sa=$(kubectl -n goodput-system get pods -l app.kubernetes.io/name=goodput -o jsonpath='{.items[0].spec.serviceAccountName}')
[[ $sa == goodput ]] || fail none "the operator runs as ServiceAccount '$sa', not the chart's goodput"
log "operator Ready under ServiceAccount $sa"

# ---- 7: Prometheus with Kubernetes service discovery, as the chart's monitors ask -------------------------------
"$HELM" template goodput helm/goodput --namespace goodput-system \
  --set monitoring.podMonitor.enabled=true --set monitoring.serviceMonitor.enabled=true \
  --set monitoring.podMonitor.interval=5s --set monitoring.podMonitor.scrapeTimeout=4s \
  --set monitoring.serviceMonitor.interval=5s --set monitoring.serviceMonitor.scrapeTimeout=4s >"$WORK/rendered.yaml"
python3 .ci/e2e-prometheus.py config "$WORK/rendered.yaml" "$KUBECONFIG" >"$WORK/prometheus.yml"
pkill -f -- "--web.listen-address 127.0.0.1:$PROM_PORT" 2>/dev/null || true   # one a killed run left behind
"$PROMETHEUS" --config.file "$WORK/prometheus.yml" --storage.tsdb.path "$WORK/tsdb" \
  --web.listen-address "127.0.0.1:$PROM_PORT" >"$WORK/prometheus.log" 2>&1 &
PROM_PID=$!
PROM_START=$(date +%s)
PROM=http://127.0.0.1:$PROM_PORT
for _ in $(seq 30); do curl -fsS "$PROM/-/ready" >/dev/null 2>&1 && break; sleep 1; done
curl -fsS "$PROM/-/ready" >/dev/null || { cat "$WORK/prometheus.log"; fail none "Prometheus did not start"; }

# ---- 4 and 5, side by side (each requests 500m), and the uninterrupted reference run of 3 on this machine -------
# (the slow save mostly waits: the reference run takes the idle core)
if want preemption; then
  log "preemption: the uninterrupted reference run of cluster/e2e/preempted.yaml on this machine, in the background"
  java -XX:TieredStopAtLevel=1 -Dai.djl.offline=true -jar "$TRAINER_JAR" run cluster/e2e/preempted.yaml \
    --checkpoint-dir "$WORK/reference" >"$WORK/reference.log" 2>&1 &
  REF_PID=$!
fi
if want slow-save; then
  log "slow-save: kubectl apply -f cluster/e2e/slow-save.yaml (saves take 40 s)"
  kubectl -n "$NS" apply -f cluster/e2e/slow-save.yaml >/dev/null
fi
if want out-of-memory; then
  log "out-of-memory: kubectl apply -f cluster/e2e/out-of-memory.yaml (a CNN whose 6.7 M parameters fit on paper and whose batch of 1024 does not, memory: 512Mi)"
  kubectl -n "$NS" apply -f cluster/e2e/out-of-memory.yaml >/dev/null
fi
if want slow-save; then
  # Status shows at once that the trainer trains (condition Running, reason Training); its step count at most once a
  # minute. A few seconds of training later:
  wait_until slow-save 180 "training" 'any(c["type"] == "Running" and c["reason"] == "Training" for c in s.get("conditions", []))'
  sleep 3
  wait_scraped slow-save 1
  pod=$(pod_of slow-save 1)
  grace=$(kubectl -n "$NS" get pod "$pod" -o jsonpath='{.spec.terminationGracePeriodSeconds}')
  log "slow-save: kubectl delete pod $pod while it trains (grace period ${grace}s)"
  t=$SECONDS
  kubectl -n "$NS" delete pod "$pod" --wait=false >/dev/null
  wait_until slow-save 150 "past attempt 1" 'len(h) >= 1 and h[0].get("outcome") not in (None, "Running")'
  log "slow-save: attempt 1 ended after $(( SECONDS - t ))s: $(kubectl -n "$NS" get tj slow-save -o jsonpath='{.status.attemptHistory[0]}')"
  assert slow-save 'h[0]["outcome"] == "Preempted" and h[0].get("exitCode") == 75' \
    "attempt 1 of slow-save did not exit 75 after its slow save"
  assert slow-save 's["lastCheckpoint"].get("saveSeconds", 0) >= 40' "the save did not take its 40 s"
  assert slow-save 's["lastCheckpoint"].get("saveSeconds", 0) < '"$grace" "the save did not fit the ${grace}s grace period"
  wait_phase slow-save Succeeded 240
  assert slow-save 's.get("preemptions") == 1 and not s.get("failures") and h[1]["startStep"] == h[0]["checkpointStep"] > 0' \
    "slow-save: attempt 2 did not resume from attempt 1's checkpoint"
  log "slow-save: passed (save of $(status_of slow-save lastCheckpoint.saveSeconds)s within ${grace}s, exit 75, resumed at step $(kubectl -n "$NS" get tj slow-save -o jsonpath='{.status.attemptHistory[1].startStep}'))"
fi
if want out-of-memory; then
  wait_phase out-of-memory Failed 240 failures-expected
  assert out-of-memory 's.get("failures") == 2 and [a.get("reason") for a in h] == ["OOMKilled", "OOMKilled"]' \
    "out-of-memory: not two OOMKilled failures"
  # The back-off: attempt 2 was created no sooner than the operator's first back-off (10 s) after attempt 1 ended.
  assert out-of-memory '__import__("datetime").datetime.fromisoformat(h[1]["created"].replace("Z", "+00:00")) - __import__("datetime").datetime.fromisoformat(h[0]["ended"].replace("Z", "+00:00")) >= __import__("datetime").timedelta(seconds=9)' \
    "out-of-memory: attempt 2 did not wait for the back-off"
  msg=$(status_of out-of-memory 'conditions[?(@.type=="Failed")].message')
  log "out-of-memory: Failed: $msg"
  [[ $msg == *"ran out of memory"* && $msg == *"spec.resources.memory"* ]] || fail out-of-memory "the message does not say what to change"
  kubectl -n "$NS" get events --field-selector involvedObject.name=out-of-memory -o jsonpath='{.items[*].reason}' | grep -qw AttemptFailed \
    || fail out-of-memory "no AttemptFailed event"
  log "out-of-memory: passed (OOMKilled twice, back-off between, Failed with what to change)"
fi

# ---- 2 ----------------------------------------------------------------------------------------------------------
if want example; then
  log "example: kubectl apply -f examples/fashion-mnist.yaml in $NS"
  kubectl -n "$NS" apply -f examples/fashion-mnist.yaml >/dev/null
  wait_phase fashion-mnist Succeeded 1500
  best=$(status_of fashion-mnist progress.bestMetric)
  reason=$(status_of fashion-mnist 'conditions[?(@.type=="Complete")].reason')
  log "example: Complete=$reason, best test accuracy $best"
  [[ $reason == TargetReached ]] || fail fashion-mnist "condition Complete has reason '$reason', not TargetReached"
  python3 -c "import sys; sys.exit(0 if float('$best') >= 0.916 else 1)" || fail fashion-mnist "test accuracy $best < 0.916"
  kubectl -n "$NS" get tj fashion-mnist
  read -r _ ph step epoch sps cost _ <<<"$(kubectl -n "$NS" get tj fashion-mnist --no-headers)"
  [[ $ph == Succeeded && $step =~ ^[0-9]+$ && $step -gt 0 && $epoch =~ ^[0-9]+$ && $sps =~ ^[0-9]+(\.[0-9])?$ && $cost =~ ^[0-9.]+$ ]] \
    || fail fashion-mnist "kubectl get tj lacks real values"
  log "example: passed"
fi

# ---- 3: the scheduler preempts, then the Eviction API evicts -----------------------------------------------------
if want preemption; then
  wait "$REF_PID" || { cat "$WORK/reference.log"; fail none "the reference run failed"; }
  REF_PID=
  ref_sha=$(sha256sum "$WORK"/reference/preempted/step-8000/parameters.bin | cut -d' ' -f1)
  log "preemption: reference run done, parameters sha256 $ref_sha"
  kubectl apply -f - >/dev/null <<'EOF'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: goodput-e2e-urgent}
value: 1000000
description: end-to-end test only, a workload that preempts training
EOF
  kubectl -n "$NS" apply -f cluster/e2e/preempted.yaml >/dev/null
  wait_until preempted 120 "training" 'any(c["type"] == "Running" and c["reason"] == "Training" for c in s.get("conditions", []))'
  sleep 3
  wait_scraped preempted 1
  # Just more CPU than the node has free beside the trainer, and less than it has without it.
  urgent_cpu=$(kubectl get pods -A -o json | python3 -c '
import json, sys
def milli(q): return int(float(q[:-1])) if q.endswith("m") else int(float(q) * 1000)
pods = [p for p in json.load(sys.stdin)["items"] if p["status"].get("phase") in ("Pending", "Running")]
used = sum(milli(c["resources"].get("requests", {}).get("cpu", "0")) for p in pods for c in p["spec"]["containers"])
trainer = sum(milli(c["resources"]["requests"]["cpu"]) for p in pods if p["metadata"].get("labels", {}).get("goodput.dev/job") == "preempted" for c in p["spec"]["containers"])
print(f"{int(sys.argv[1]) - used + trainer // 2}m")' "$(kubectl get node goodput-node -o jsonpath='{.status.allocatable.cpu}' | sed 's/m$//;s/^\([0-9]*\)$/\1000/')")
  log "preemption: a pod of priority 1000000 requesting $urgent_cpu CPU, while attempt 1 trains"
  kubectl -n "$NS" apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: urgent}
spec:
  priorityClassName: goodput-e2e-urgent
  terminationGracePeriodSeconds: 0
  securityContext: {runAsNonRoot: true, runAsUser: 65535, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: pause
      image: goodput.local/pause:1
      imagePullPolicy: Never
      resources: {requests: {cpu: "$urgent_cpu"}}
      securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
EOF
  wait_until preempted 120 "preempted by the scheduler" 'len(h) >= 1 and h[0].get("outcome") == "Preempted"'
  assert preempted 'h[0]["reason"] == "PreemptionByScheduler" and h[0].get("exitCode") == 75 and h[0]["checkpointStep"] > 0' \
    "attempt 1 was not preempted by the scheduler with its checkpoint written"
  log "preemption: attempt 1 $(kubectl -n "$NS" get tj preempted -o jsonpath='{.status.attemptHistory[0].reason} at step {.status.attemptHistory[0].checkpointStep}'); deleting the urgent pod"
  kubectl -n "$NS" delete pod urgent --wait >/dev/null
  wait_until preempted 120 "training in attempt 2" 'len(h) >= 2 and any(c["type"] == "Running" and c["reason"] == "Training" and c["message"].startswith("attempt 2:") for c in s.get("conditions", []))'
  sleep 3
  wait_scraped preempted 2
  pod=$(pod_of preempted 2)
  log "preemption: evicting $pod through the Eviction API while it trains"
  evict "$pod"
  wait_phase preempted Succeeded 300
  attempts_of preempted
  assert preempted 's.get("preemptions") == 2 and not s.get("failures") and len(h) == 3' "not 2 preemptions and no failure"
  assert preempted '[a["reason"] for a in h[:2]] == ["PreemptionByScheduler", "EvictionByEvictionAPI"] and all(a.get("exitCode") == 75 for a in h[:2])' \
    "the attempts did not end by PreemptionByScheduler then EvictionByEvictionAPI, each with exit 75"
  assert preempted 'h[1]["startStep"] == h[0]["checkpointStep"] and h[2]["startStep"] == h[1]["checkpointStep"] > h[0]["checkpointStep"]' \
    "an attempt did not resume from its predecessor's checkpoint"
  events=$(kubectl -n "$NS" get events --field-selector involvedObject.name=preempted,reason=Preempted -o jsonpath='{range .items[*]}{.message}{"\n"}{end}')
  [[ $events == *"attempt 1 preempted (PreemptionByScheduler)"* && $events == *"attempt 2 preempted (EvictionByEvictionAPI)"* ]] \
    || fail preempted "no Preempted event for each preemption: $events"
  sha=$(status_of preempted lastCheckpoint.parametersSha256)
  [[ $(status_of preempted lastCheckpoint.step) == 8000 && $sha == "$ref_sha" ]] \
    || fail preempted "final parameters $sha (step $(status_of preempted lastCheckpoint.step)) differ from the uninterrupted run's $ref_sha"
  log "preemption: passed (2 preemptions, 0 failures, parameters byte-identical to the uninterrupted run: $sha)"
fi

# ---- 8: two workers, one evicted ----------------------------------------------------------------------------------
if want workers; then
  log "workers: the uninterrupted two-process reference run of cluster/e2e/workers.yaml on this machine, in the background"
  ref_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  for r in 1 0; do
    env WORLD_SIZE=2 RANK=$r LOCAL_RANK=0 MASTER_ADDR=127.0.0.1 MASTER_PORT="$ref_port" \
      java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dai.djl.offline=true -jar "$TRAINER_JAR" run cluster/e2e/workers.yaml \
      --checkpoint-dir "$WORK/reference-workers" >"$WORK/reference-workers-$r.log" 2>&1 &
    WREF_PIDS+=" $!"
  done
  log "workers: a ReadWriteMany claim for the gang's checkpoints, then kubectl apply -f cluster/e2e/workers.yaml"
  kubectl -n "$NS" apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: goodput-e2e-shared}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: ""
  resources: {requests: {storage: 1Gi}}
EOF
  kubectl -n "$NS" apply -f cluster/e2e/workers.yaml >/dev/null
  wait_until workers 180 "training on two pods" 'any(c["type"] == "Running" and c["reason"] == "Training" for c in s.get("conditions", [])) and s.get("workers", {}).get("worldSize") == 2'
  sleep 3
  wait_scraped workers 1
  pod=$(kubectl -n "$NS" get pods -l "goodput.dev/job=workers,goodput.dev/attempt=1,goodput.dev/rank=1" -o jsonpath='{.items[0].metadata.name}')
  log "workers: evicting rank 1 ($pod) through the Eviction API while the gang trains"
  evict "$pod"
  wait_phase workers Succeeded 400
  attempts_of workers
  assert workers 's.get("preemptions") == 1 and not s.get("failures") and len(h) == 2' "not 1 preemption and no failure in 2 attempts"
  assert workers 'h[0]["outcome"] == "Preempted" and h[1]["startStep"] == h[0]["checkpointStep"] > 0' \
    "attempt 2 did not resume the gang from rank 0's checkpoint of attempt 1"
  for p in $WREF_PIDS; do wait "$p" || { cat "$WORK"/reference-workers-*.log; fail none "the two-process reference run failed"; }; done
  WREF_PIDS=
  wref_sha=$(sha256sum "$WORK"/reference-workers/workers/step-6000/parameters.bin | cut -d' ' -f1)
  sha=$(status_of workers lastCheckpoint.parametersSha256)
  [[ $(status_of workers lastCheckpoint.step) == 6000 && $sha == "$wref_sha" ]] \
    || fail workers "final parameters $sha (step $(status_of workers lastCheckpoint.step)) differ from the uninterrupted two-process run's $wref_sha"
  log "workers: passed (rank 1 evicted, the gang restarted once, 0 failures, parameters byte-identical to the uninterrupted two-process run: $sha)"
fi

# ---- 7: what Prometheus found, and the dashboards over it ----------------------------------------------------------
jobs=$(kubectl -n "$NS" get tj -o jsonpath='{.items[*].metadata.name}')
targets=$(curl -fsS "$PROM/api/v1/query" --data-urlencode 'query=count by (job, namespace, attempt, node) (last_over_time(goodput_trainer_steps_total[1h]))' \
  | python3 -c 'import json,sys; print(" ".join(sorted("%s/%s#%s@%s" % (r["metric"].get("namespace"), r["metric"].get("job"), r["metric"].get("attempt"), r["metric"].get("node")) for r in json.load(sys.stdin)["data"]["result"])))')
log "prometheus: trainer series by namespace/job#attempt@node: ${targets:-none}"
# Only an attempt that Prometheus scraped while it ran has a series, and service discovery and the first scrape can
# take longer than an attempt that resumes near its job's end lives (preempted's third ran 10 s on an Intel Xeon and
# was never scraped). So the check covers every attempt that ran for 30 s or more, and every attempt that wait_scraped
# saw scraped before this test interrupted it (its node label is checked only here). Attempts here run 10 to 15 s
# (preempted's second, which wait_scraped covers, and its third) or 40 s and more (slow-save's two, the example, the
# workers' second), so 30 s keeps every long one in the check.
for j in $jobs; do
  [[ $j == out-of-memory ]] && continue   # killed before it served metrics
  attempts=$(kubectl -n "$NS" get tj "$j" -o json | WAITED="$WAITED_SCRAPED" JOB="$j" python3 -c '
import datetime, json, os, sys
s = json.load(sys.stdin).get("status", {})
waited = os.environ["WAITED"].split()
at = lambda t: datetime.datetime.fromisoformat(t.replace("Z", "+00:00"))
for a in range(1, (s.get("attempts") or 0) + 1):
    h = next((x for x in s.get("attemptHistory", []) if x.get("attempt") == a), {})
    lived = (at(h["ended"]) - at(h["created"])).total_seconds() if h.get("ended") and h.get("created") else None
    if lived is None or lived >= 30 or "%s#%d" % (os.environ["JOB"], a) in waited:
        print("require", a)
    else:
        print("skip", a, "ran %.0f s, too short to require a scrape" % lived)
')
  while read -r kind a why; do
    [[ -n $kind ]] || continue
    if [[ $kind == skip ]]; then log "prometheus: $j attempt $a $why"; continue; fi
    [[ " $targets " == *" $NS/$j#$a@goodput-node "* ]] \
      || fail "$j" "Prometheus has no series of $j attempt $a labelled as the PodMonitor says (namespace, job, attempt, node)"
  done <<<"$attempts"
done
# The operator's per-job gauges, through the ServiceMonitor, equal status.
for j in $jobs; do
  want_cost=$(status_of "$j" cost)
  for _ in $(seq 20); do
    got=$(curl -fsS "$PROM/api/v1/query" --data-urlencode "query=goodput_trainingjob_cost_dollars{namespace=\"$NS\",job=\"$j\"}" \
      | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")')
    python3 -c "import sys; sys.exit(0 if '$got' and abs(float('$got') - float('${want_cost:-0}')) < 1e-9 else 1)" && break
    sleep 1
  done
  python3 -c "import sys; sys.exit(0 if '$got' and abs(float('$got') - float('${want_cost:-0}')) < 1e-9 else 1)" \
    || fail "$j" "goodput_trainingjob_cost_dollars of $j is '$got' in Prometheus, status says $want_cost"
done
# shellcheck disable=SC2086
python3 .ci/e2e-prometheus.py check "$PROM" "$NS" "$PROM_START" $jobs || fail none "dashboard queries without data"
log "prometheus: passed (service discovery, the chart's relabelling, every dashboard query with data)"

# ---- 1: deleting and uninstalling leave nothing behind -----------------------------------------------------------
kubectl -n "$NS" delete trainingjob --all --wait --timeout 3m >/dev/null || fail none "the TrainingJobs were not deleted"
# The gang's claim is the user's (the test made it), not the operator's: the user deletes it.
kubectl -n "$NS" delete pvc goodput-e2e-shared --ignore-not-found --wait --timeout 2m >/dev/null
for _ in $(seq 60); do
  left=$(kubectl -n "$NS" get pods,pvc -o name 2>/dev/null)
  [[ -z $left ]] && break; sleep 2
done
[[ -z $left ]] || fail none "left behind by the deleted jobs: $left"
"$HELM" uninstall goodput -n goodput-system --wait --timeout 2m >/dev/null || fail none "helm uninstall failed"
for _ in $(seq 60); do
  left=$(kubectl -n goodput-system get pods -o name 2>/dev/null)
  [[ -z $left ]] && break; sleep 2
done
[[ -z $left ]] || fail none "left behind by helm uninstall: $left"
finalized=$(kubectl get pods -A -o jsonpath='{range .items[?(@.metadata.finalizers)]}{.metadata.namespace}/{.metadata.name} {end}')
[[ -z $finalized ]] || fail none "pods with finalizers left: $finalized"
log "passed: ${ONLY}, install and uninstall, restricted namespaces, Prometheus and the dashboards"
