#!/usr/bin/env bash
# Trainer vs the best of PyTorch eager as it comes, with fused AdamW, with fused AdamW + jemalloc, and with fused AdamW
# + channels-last (--peers).
# Installs PyTorch 2.7.1 (PyPI) and numpy into bench/.venv on first use, and Debian's libjemalloc2,
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

# jemalloc for the fused+jemalloc peer (LD_PRELOAD), as a user tuning PyTorch's CPU allocation would try it.
if [[ $peer_jar == 0 && ! -e /usr/lib/x86_64-linux-gnu/libjemalloc.so.2 ]]; then
  echo "installing Debian's libjemalloc2 (for the fused+jemalloc peer)" >&2
  as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
  as_root apt-get install -y -qq libjemalloc2 >/dev/null || { as_root apt-get update -qq && as_root apt-get install -y -qq libjemalloc2 >/dev/null; }
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
