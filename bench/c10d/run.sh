#!/usr/bin/env bash
# Data parallelism across processes on this machine (c10d, Gloo, loopback), two measurements side by side:
#   1. all-reduce time: the trainer's binding (AllReduceTimer) against Python torch.distributed (gloo), 2 ranks,
#      float32 sums of 0.4M, 11M and 25M elements and 11M in 62 tensors (bucketed), alternating, medians of medians;
#   2. training throughput of 1 process against 2 processes with the cores split (threads 2 vs 1 + 1, OMP_NUM_THREADS
#      likewise), the same job and global batch, samples/s from each run's termination message, alternating.
# Usage: bench/c10d/run.sh [--reps 3] [--steps 1500]   (needs the trainer jar: mvn -pl trainer-image -am package,
#        and bench/.venv with torch 2.7.1: bench/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=3 steps=1500
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps=$2; shift ;;
    --steps) steps=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
jar=trainer-image/target/goodput-trainer.jar
py=bench/.venv/bin/python
[ -f "$jar" ] || { echo "no $jar: mvn -B -q -pl trainer-image -am package -DskipTests" >&2; exit 1; }
[ -x "$py" ] || { echo "no bench/.venv: see bench/README.md" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
sizes="400000 11000000 25000000 11000000/62"
java_opts=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Dai.djl.offline=true)

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# two_ranks LOG CMD...: runs CMD as rank 0 and rank 1 of a fresh group on loopback, one thread each.
two_ranks() {
  local log=$1; shift
  local p; p=$(port)
  for r in 1 0; do
    env WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$p OMP_NUM_THREADS=1 \
      "$@" > "$log.$r" 2>&1 &
  done
  wait
  cat "$log.0"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$reps"); do
  two_ranks "$work/ours-$i" java "${java_opts[@]}" -cp "$jar" dev.goodput.trainer.distributed.AllReduceTimer $sizes | sed "s/^/ours rep $i: /"
  two_ranks "$work/torch-$i" "$py" bench/c10d/allreduce.py $sizes | sed "s/^/torch rep $i: /"
done | tee "$work/allreduce.txt"

cat > "$work/job.yaml" <<YAML
apiVersion: goodput.dev/v1alpha1
kind: TrainingJob
metadata: {name: c10d-bench}
spec:
  model: {architecture: cnn, width: 16}
  data: {path: /usr/share/datasets/fashion-mnist, testLimit: 1000}
  training:
    globalBatchSize: 128
    batchSize: "64"
    maxSteps: $steps
    optimizer: {name: adamw, lr: 0.002}
    seed: 7
YAML
sps() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.0f" % (r["progress"]["samples"] / r["trainingSeconds"]))' "$1"; }
for i in $(seq "$reps"); do
  rm -rf "$work/ck1" "$work/ck2"
  OMP_NUM_THREADS=2 java "${java_opts[@]}" -jar "$jar" run "$work/job.yaml" --checkpoint-dir "$work/ck1" \
    --termination-log "$work/one-$i.json" --progress log --set spec.training.threads=2 > "$work/one-$i.log" 2>&1
  two_ranks "$work/two-$i" java "${java_opts[@]}" -jar "$jar" run "$work/job.yaml" --checkpoint-dir "$work/ck2" \
    --termination-log "$work/two-$i.json" --progress log --set spec.training.threads=1 > /dev/null
  echo "throughput rep $i: 1 process $(sps "$work/one-$i.json") samples/s, 2 processes $(sps "$work/two-$i.json") samples/s"
done | tee "$work/throughput.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

python3 - "$work/allreduce.txt" "$work/throughput.txt" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    m = re.match(r"(ours|torch) rep \d+: allreduce (\S+) .* median_ms=([\d.]+)", line)
    if m:
        rows.setdefault(m.group(2), {}).setdefault(m.group(1), []).append(float(m.group(3)))
print("\n| all-reduce, 2 ranks | trainer binding (ms) | torch.distributed gloo (ms) | ratio torch / trainer |")
print("|---|---:|---:|---:|")
for size, r in rows.items():
    o, t = statistics.median(r["ours"]), statistics.median(r["torch"])
    print(f"| {size} floats | {o:.2f} | {t:.2f} | {t / o:.2f} |")
one, two = [], []
for line in open(sys.argv[2]):
    m = re.search(r"1 process (\d+) samples/s, 2 processes (\d+)", line)
    if m:
        one.append(int(m.group(1))); two.append(int(m.group(2)))
print(f"\n| CNN width 16, global batch 128 | 1 process, 2 threads | 2 processes, 1 thread each | 2 / 1 |")
print("|---|---:|---:|---:|")
print(f"| samples/s, median of {len(one)} | {statistics.median(one):,.0f} | {statistics.median(two):,.0f} | {statistics.median(two) / statistics.median(one):.2f} |")
PY
