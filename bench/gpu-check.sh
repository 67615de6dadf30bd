#!/usr/bin/env bash
# GPU check of the Goodput trainer, for a machine with an NVIDIA GPU and PyTorch but no internet and little room to
# bring files. It tries the trainer on CUDA with the machine's own libtorch and measures PyTorch eager with AMP on the
# same CNN for comparison, printing everything and writing it to ${OUT:-.}/gpu-check.txt. With two GPUs or more it
# also trains one job on two trainer processes, one GPU each, whose gradients NCCL averages (the c10d binding built
# with NCCL, carried in bench/.gpu-carry/native).
#
# Prepare here (needs Maven):  make gpu-carry      -> bench/.gpu-carry/ (~20 MB: the trainer without CPU libtorch)
# Run there:                   bash bench/gpu-check.sh
# Java: uses `java` from PATH, or $GOODPUT_JAVA, or bench/.gpu-carry/jre/bin/java if one was carried.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-.}/gpu-check.txt"
exec > >(tee "$out") 2>&1
carry=bench/.gpu-carry
echo "# Goodput GPU check, $(date -u +%Y-%m-%dT%H:%MZ)"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || echo "nvidia-smi: not available"

py=$(command -v python3)
read -r torch_version torch_cuda torch_lib < <("$py" - <<'PY'
import os, torch
print(torch.__version__, torch.version.cuda, os.path.join(os.path.dirname(torch.__file__), "lib"))
PY
)
echo "python torch: $torch_version (CUDA $torch_cuda), libtorch at $torch_lib"

echo "## PyTorch eager, AMP fp16, CNN width 32, batch 128"
"$py" - <<'PY'
import time, torch, torch.nn as nn
torch.manual_seed(0)
dev = "cuda"
def cnn(w=32):
    return nn.Sequential(
        nn.Conv2d(1, w, 3, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w, 2 * w, 3, padding=1, bias=False), nn.BatchNorm2d(2 * w), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(2 * w * 49, 4 * w), nn.ReLU(), nn.Linear(4 * w, 10)).to(dev)
m = cnn(); opt = torch.optim.AdamW(m.parameters(), 1e-3, weight_decay=0.01)
scaler = torch.amp.GradScaler("cuda")
x = torch.randn(128, 1, 28, 28, device=dev); y = torch.randint(0, 10, (128,), device=dev)
def step():
    with torch.autocast("cuda", dtype=torch.float16):
        loss = nn.functional.cross_entropy(m(x), y)
    opt.zero_grad(set_to_none=True); scaler.scale(loss).backward(); scaler.step(opt); scaler.update()
for _ in range(20): step()
torch.cuda.synchronize(); t = time.perf_counter(); n = 200
for _ in range(n): step()
torch.cuda.synchronize(); dt = time.perf_counter() - t
print(f'{{"impl":"pytorch-eager-amp","samples_per_second":{n*128/dt:.0f},"ms_per_step":{dt/n*1000:.3f}}}')
PY

echo "## Goodput trainer on CUDA with this machine's libtorch"
java=${GOODPUT_JAVA:-$(command -v java || true)}
[ -z "$java" ] && [ -x "$carry/jre/bin/java" ] && java="$carry/jre/bin/java"
if [ -z "$java" ]; then
  echo "RESULT: no Java on this machine (and none carried in $carry/jre): the trainer cannot run here"
  exit 0
fi
if [ ! -d "$carry/lib" ]; then
  echo "RESULT: $carry/lib missing: run 'make gpu-carry' where Maven works and bring the folder"
  exit 0
fi
case "$torch_version" in
  2.7.1*) ;;
  *) echo "NOTE: DJL's pytorch-jni 2.7.1-0.36.0 is built against libtorch 2.7.1; this machine has $torch_version. Trying anyway." ;;
esac
flavor="cu$(echo "$torch_cuda" | tr -d .)"
export PYTORCH_LIBRARY_PATH="$torch_lib" PYTORCH_VERSION="${torch_version%%+*}" PYTORCH_FLAVOR="$flavor"
export DJL_CACHE_DIR="${TMPDIR:-/tmp}/djl" ENGINE_CACHE_DIR="${TMPDIR:-/tmp}/djl"
echo "PYTORCH_LIBRARY_PATH=$PYTORCH_LIBRARY_PATH PYTORCH_VERSION=$PYTORCH_VERSION PYTORCH_FLAVOR=$PYTORCH_FLAVOR"
"$java" -Dai.djl.offline=true -cp "$carry/lib/*" dev.goodput.trainer.cli.TrainerCli bench --model cnn --batch 128 \
  --threads 8 --steps 200 --warmup 20 2>&1 | tail -40
echo "RESULT: trainer exit code ${PIPESTATUS[0]}"

echo "## Two trainer processes, one GPU each, gradients averaged by NCCL (c10d)"
gpus=$(nvidia-smi --query-gpu=index --format=csv,noheader 2>/dev/null | wc -l)
nccl_lib="$PWD/$carry/native/libgoodput_c10d_nccl.so"
if [ "$gpus" -lt 2 ]; then
  echo "RESULT: NCCL step skipped: it needs 2 GPUs (NCCL puts one rank on a device) and this machine has $gpus"
elif [ ! -f "$nccl_lib" ]; then
  echo "RESULT: NCCL step skipped: $nccl_lib missing (make gpu-carry with bench/.venv present)"
else
  job="${TMPDIR:-/tmp}/goodput-nccl-job.yaml"
  cat > "$job" <<'YAML'
apiVersion: goodput.dev/v1alpha1
kind: TrainingJob
metadata: {name: nccl-check}
spec:
  model: {architecture: cnn, width: 32}
  data: {path: /usr/share/datasets/fashion-mnist, trainLimit: 12800, testLimit: 1000}
  training: {globalBatchSize: 256, batchSize: "128", maxSteps: 200, precision: fp32, optimizer: {name: adamw, lr: 0.002}, seed: 7}
  resources: {gpus: 2}
YAML
  port=$("$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  for r in 1 0; do
    env WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r LOCAL_WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port \
      GOODPUT_C10D_NCCL_LIBRARY="$nccl_lib" "$java" -Dai.djl.offline=true -cp "$carry/lib/*" \
      dev.goodput.trainer.cli.TrainerCli run "$job" --checkpoint-dir "${TMPDIR:-/tmp}/goodput-nccl-ck" --progress log \
      > "${TMPDIR:-/tmp}/goodput-nccl-$r.log" 2>&1 &
    pids[$r]=$!
  done
  wait "${pids[1]}"; c1=$?; wait "${pids[0]}"; c0=$?
  grep -E "data parallel|model cnn|samples/s|goodput:" "${TMPDIR:-/tmp}/goodput-nccl-0.log" | tail -12
  echo "RESULT: NCCL step exit codes rank 0 $c0, rank 1 $c1 (backend as printed above)"
fi
