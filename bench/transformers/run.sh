#!/usr/bin/env bash
# MiniLM-L6 fine-tuning, trainer vs PyTorch 2.7.1 eager (transformers + PEFT), full / LoRA / LoRA + checkpointing.
# Installs what the peer needs into bench/.venv (torch 2.7.1, transformers, peft, tokenizers) and the weights and data
# (.ci/text-assets.sh), builds the trainer jar into bench/throughput/target/, then runs run.py (arguments pass through):
#   bench/transformers/run.sh --reps 3
#   bench/transformers/run.sh --no-build --modes lora --reps 5
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
venv="$root/bench/.venv"
build=1
args=()
for a in "$@"; do
  if [[ "$a" == "--no-build" ]]; then build=0; else args+=("$a"); fi
done
if ! "$venv/bin/python" -c 'import torch, transformers, peft, tokenizers; assert torch.__version__.startswith("2.7.1")' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet torch==2.7.1 transformers peft tokenizers
fi
"$root/.ci/text-assets.sh"
mkdir -p "$root/bench/throughput/target"
if [[ $build == 1 ]]; then
  (cd "$root" && mvn -B -q -pl trainer-image -am package -DskipTests)
  cp "$root/trainer-image/target/goodput-trainer.jar" "$root/bench/throughput/target/goodput-trainer.jar"
fi
cd "$root"
exec "$venv/bin/python" "$here/run.py" "${args[@]}"
