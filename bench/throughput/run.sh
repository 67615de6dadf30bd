#!/usr/bin/env bash
# Trainer vs PyTorch eager throughput. Installs PyTorch 2.7.1 (PyPI) and numpy into bench/.venv on first use,
# builds the trainer jar and copies it to bench/throughput/target/ (so a rebuild by someone else cannot change it
# mid-run), then runs run.py, which writes bench/results/throughput-<date>.md. All arguments go to run.py:
#   bench/throughput/run.sh --quick            # MLP b128, CNN b128, ResNet-20 b32 at 2 threads, 3 repetitions
#   bench/throughput/run.sh                    # every model x batch {32,128,512} x threads {1,2}
#   bench/throughput/run.sh --no-build ...     # reuse bench/throughput/target/goodput-trainer.jar
#   bench/throughput/run.sh --quick --peer-jar OLD.jar   # before vs after: an earlier commit's trainer instead of PyTorch
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/bench/.venv"

build=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-build" ]]; then build=0; else args+=("$a"); fi
done

peer_jar=0
for a in "$@"; do [[ "$a" == "--peer-jar" ]] && peer_jar=1; done
if [[ $peer_jar == 0 ]] && ! "$venv/bin/python" -c 'import torch, numpy; assert torch.__version__.startswith("2.7.1")' 2>/dev/null; then
  echo "installing torch==2.7.1 and numpy into $venv (PyPI's manylinux wheel: ~5 GB with its CUDA libraries, run on CPU)" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch==2.7.1 numpy
fi

mkdir -p "$here/target"
if [[ $build == 1 ]]; then
  (cd "$root" && mvn -B -q -pl trainer-image -am package -DskipTests)
  cp "$root/trainer-image/target/goodput-trainer.jar" "$here/target/goodput-trainer.jar"
elif [[ ! -f "$here/target/goodput-trainer.jar" ]]; then
  cp "$root/trainer-image/target/goodput-trainer.jar" "$here/target/goodput-trainer.jar"
fi

export GOODPUT_BENCH_ARGS="$*"
exec python3 "$here/run.py" ${args[@]+"${args[@]}"}
