#!/bin/bash
# The trainer's JVM with G1 (the JVM's own choice on a 2-CPU machine) against SerialGC (the images' choice), side by
# side, alternating, with the CPU image's other options: `trainer bench` on MiniLM-L6 LoRA r8 (batch 16 x 128 tokens),
# the MLP and the CNN (batch 128), 2 threads. Prints samples/s, ms/step and peak RSS per run. Needs the trainer jar
# (mvn -pl trainer-image -am package -DskipTests) and the text assets (make text-data). Usage: bench/jvm-gc/run.sh [REPS]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
jar=$root/trainer-image/target/goodput-trainer.jar
reps=${1:-2}
base="-XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError -Dai.djl.offline=true"
declare -A args=(
  [minilm-lora]="--model bert-classifier --batch 16 --seq 128 --steps 15 --warmup 3 --lora 8"
  [mlp]="--model mlp --batch 128 --steps 3000 --warmup 300"
  [cnn]="--model cnn --batch 128 --steps 200 --warmup 30")
echo "| model | GC | rep | load | samples/s | ms/step | peak RSS MiB |"
echo "|---|---|---:|---:|---:|---:|---:|"
for m in minilm-lora mlp cnn; do
  for rep in $(seq 1 "$reps"); do
    for gc in G1 Serial; do
      opts="$base -XX:+Use${gc}GC"
      load=$(cut -d' ' -f1 /proc/loadavg)
      out=$(cd "$root" && OMP_NUM_THREADS=2 java $opts -jar "$jar" bench ${args[$m]} --threads 2 2>/dev/null | tail -1)
      echo "$out" | python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(f'| $m | $gc | $rep | $load | {d[\"samples_per_second\"]:.2f} | {d[\"ms_per_step\"]:.3f} | {d[\"peak_rss_mib\"]} |')"
    done
  done
done
