#!/usr/bin/env bash
# Operator scale benchmark: N TrainingJobs applied at once to a real kube-apiserver (no kubelet), time from each
# job's creation to its pod's creation (p50, p99) and the operator's RSS; then M jobs running (pods made Running by the
# bench, answered by fake trainer endpoints on loopback), the status writes per job per minute the apiserver counts,
# reconciles, and CPU over a steady-state window. See bench/README.md.
#
#   bench/operator-scale/run.sh                      # N = 100, then 1000; M = 200 for 180 s; writes bench/results/operator-scale-<date>.md
#   bench/operator-scale/run.sh --running 0          # the burst only; --running 200 --window 300 for a longer window
#   bench/operator-scale/run.sh --jobs 100,1000,2000 --java-opts "-Xmx256m" --env GOODPUT_STATUS_INTERVAL=120s
#   bench/operator-scale/run.sh --no-build --max-load 1.5 --max-wait 600 --report /tmp/scale.md
#   bench/operator-scale/run.sh --operator-jar /tmp/old/operator/target/quarkus-app/quarkus-run.jar   # another build's operator
#
# The operator is the packaged Quarkus app (operator/target/quarkus-app/quarkus-run.jar) in a process of its own; the
# apiserver, etcd and the bench client run beside it, on the same CPUs. The bench waits (up to --max-wait seconds)
# for the 1-minute load average to fall below --max-load before it starts, and reports the load before and after.
set -euo pipefail
cd "$(dirname "$0")/../.."

args="$*"
jobs=100,1000
java_opts=""
env_list=""
build=1
max_load=1.5
max_wait=900
creators=16
running=200
operator_jar=""
window=180
report=""
while [ $# -gt 0 ]; do
  case "$1" in
    --jobs) jobs=$2; shift 2 ;;
    --java-opts) java_opts=$2; shift 2 ;;
    --env) env_list=$2; shift 2 ;;
    --creators) creators=$2; shift 2 ;;
    --operator-jar) operator_jar=$(realpath "$2"); shift 2 ;;
    --running) running=$2; shift 2 ;;
    --window) window=$2; shift 2 ;;
    --report) report=$2; shift 2 ;;
    --no-build) build=0; shift ;;
    --max-load) max_load=$2; shift 2 ;;
    --max-wait) max_wait=$2; shift 2 ;;
    -h|--help) sed -n 2,15p "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

if [ "$build" = 1 ]; then
  mvn -B -q -pl api,operator -am install -DskipTests
fi
[ -n "$operator_jar" ] || [ -f operator/target/quarkus-app/quarkus-run.jar ] || { echo "operator/target/quarkus-app/quarkus-run.jar missing: run without --no-build" >&2; exit 1; }

waited=0
while awk -v m="$max_load" '{exit !($1 >= m)}' /proc/loadavg && [ "$waited" -lt "$max_wait" ]; do
  [ $((waited % 60)) = 0 ] && echo "load $(cut -d' ' -f1-3 /proc/loadavg) >= $max_load: waiting (up to ${max_wait}s)"
  sleep 10; waited=$((waited + 10))
done

date=$(date +%F)
[ -n "$report" ] || report="bench/results/operator-scale-$date.md"
mkdir -p bench/results
command="bench/operator-scale/run.sh $args"
props=(-Dtest=OperatorScaleBench -Dsurefire.failIfNoSpecifiedTests=false "-Dgoodput.bench.jobs=$jobs"
  "-Dgoodput.bench.creators=$creators" "-Dgoodput.bench.running=$running" "-Dgoodput.bench.window=$window" "-Dgoodput.bench.report=$(realpath -m "$report")" "-Dgoodput.bench.command=$command")
[ -n "$java_opts" ] && props+=("-Dgoodput.bench.javaOpts=$java_opts")
[ -n "$env_list" ] && props+=("-Dgoodput.bench.operatorEnv=$env_list")
[ -n "$operator_jar" ] && props+=("-Dgoodput.bench.operatorJar=$operator_jar")
mvn -B -pl operator test "${props[@]}" | grep -E '\[operator-scale\]|Tests run|ERROR|FAIL' || true
[ -f "$report" ] && cat "$report"
