#!/usr/bin/env python3
"""The reference that TorchScriptTrainingTest holds the trainer to: examples/torchscript/fashion_cnn.pt trained 20
steps in PyTorch exactly as the trainer trains it. Run from the repository root, with the torch the trainer's
libtorch matches (2.7.1, CPU; bench/.venv has it):

  bench/.venv/bin/python trainer-image/src/test/python/torchscript_reference.py

It writes trainer-image/src/test/resources/dev/goodput/trainer/model/torchscript/torchscript_reference.json: the 20
losses, and the logits of the first test examples in eval mode after training (which depend on the BatchNorm
running statistics, so they check the buffers too).

What it reproduces of the trainer:
* data: Fashion-MNIST's training examples in file order, batch b = examples [b*B, (b+1)*B), no shuffling and no
  augmentation; pixels / 255 normalised with the training split's mean and standard deviation, computed as
  data/Normalization does (float32 values summed in double, then rounded to float32) and applied in float32;
* the step (loop/TrainingStep): libtorch's generator seeded with EpochOrder.mix(seed, step) before the forward (the
  dropout masks depend on it), forward in train mode, loss = -mean(log_softmax(logits)[label]) as loop/Losses
  computes it, backward, AdamW with the trainer's defaults (lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
  0.01; run/RunPlanner) through the fused kernel the trainer calls (torch._fused_adamw_), no LR schedule;
* the module as the trainer runs it: the graph executor's optimisation off (TorchScriptLoader sets it off).
"""
import gzip
import json
import os
import sys

import numpy as np
import torch

MODEL = "examples/torchscript/fashion_cnn.pt"
DATA = "/usr/share/datasets/fashion-mnist"
OUT = "trainer-image/src/test/resources/dev/goodput/trainer/model/torchscript/torchscript_reference.json"
SEED = 42
BATCH = 32
STEPS = 20
TEST_EXAMPLES = 8
LR, BETAS, EPS, WEIGHT_DECAY = 1e-3, (0.9, 0.999), 1e-8, 0.01
MASK = (1 << 64) - 1


def idx(name):
    with gzip.open(os.path.join(DATA, name), "rb") as f:
        raw = f.read()
    dims = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def mix(a, b):
    """data/EpochOrder.mix: SplitMix64's finaliser on a * golden + b + constant, in Java's wrapping 64-bit arithmetic."""
    z = (a * 0x9E3779B97F4A7C15 + b + 0x632BE59BD9B4E019) & MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return z ^ (z >> 31)


def normalisation(train_images):
    values = train_images.astype(np.float32) / np.float32(255)  # ExampleSet.raw, in float
    v = values.astype(np.float64)
    count = float(v.size)
    mean = v.sum() / count
    std = max(1e-6, np.sqrt(max(0.0, (v * v).sum() / count - mean * mean)))
    return np.float32(mean), np.float32(std)


def inputs(images, mean, std):
    x = (images.astype(np.float32) / np.float32(255) - mean) / std  # BatchAssembler.copy, in float
    return torch.from_numpy(np.ascontiguousarray(x.reshape(-1, 1, 28, 28), dtype=np.float32))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    torch._C._set_graph_executor_optimize(False)
    train_images, train_labels = idx("train-images-idx3-ubyte.gz"), idx("train-labels-idx1-ubyte.gz")
    test_images = idx("t10k-images-idx3-ubyte.gz")
    mean, std = normalisation(train_images)
    model = torch.jit.load(MODEL)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LR, betas=BETAS, eps=EPS, weight_decay=WEIGHT_DECAY,
                                  fused=True)
    losses = []
    for step in range(STEPS):
        torch.manual_seed(mix(SEED, step))
        x = inputs(train_images[step * BATCH:(step + 1) * BATCH], mean, std)
        y = torch.from_numpy(train_labels[step * BATCH:(step + 1) * BATCH].astype(np.int64))
        logits = model(x)
        loss = logits.log_softmax(1).gather(1, y.reshape(-1, 1)).mean().neg()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    model.eval()
    with torch.no_grad():
        test_logits = model(inputs(test_images[:TEST_EXAMPLES], mean, std))
    result = {
        "torch": torch.__version__, "threads": torch.get_num_threads(), "seed": SEED, "batch": BATCH,
        "steps": STEPS, "lr": LR, "beta1": BETAS[0], "beta2": BETAS[1], "eps": EPS, "weightDecay": WEIGHT_DECAY,
        "mean": float(mean), "std": float(std), "losses": losses,
        "testLogits": test_logits.tolist(),
        "buffers": {name: b.flatten().tolist() for name, b in model.named_buffers()},
    }
    with open(out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print(f"wrote {out}: losses {losses[0]:.6f} .. {losses[-1]:.6f}")


if __name__ == "__main__":
    main()
