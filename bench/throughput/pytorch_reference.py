#!/usr/bin/env python3
"""PyTorch eager reference for `trainer bench`: the same models, data, normalisation, optimizer and step.

Layer structure follows trainer-image/.../model/ModelFactory.java and ResNetBuilder.java:
  mlp      flatten, Linear 784-256, ReLU, Linear 256-128, ReLU, Linear 128-10
  cnn      2 x [Conv3x3 pad 1 no bias, BatchNorm, ReLU, MaxPool 2x2] (32, 64 filters), flatten,
           Linear 3136-128, ReLU, Linear 128-10
  resnet20 Conv3x3(16) no bias, BN, ReLU; 3 stages (16, 32, 64) of 3 basic blocks, the first of stages 2 and 3
           with stride 2 and a 1x1 conv + BN projection shortcut; global average pool; Linear 64-10
Data: Fashion-MNIST train IDX (gz) read with numpy, x/255 normalised by the train split's mean and std, shuffled
once, batches assembled before the clock starts (as the trainer's bench does). Step: forward, cross-entropy,
backward, AdamW(lr=1e-3, weight_decay=0.01), zero_grad, loss.item() (the trainer reads the loss every step too).
With --channels-last, the convolutional models and their inputs are laid out channels-last (the trainer lays out its
built-in CNN's input so). Prints one JSON line like `trainer bench`.
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        magic = struct.unpack(">I", f.read(4))[0]
        dims = magic & 0xFF
        shape = struct.unpack(">" + "I" * dims, f.read(4 * dims))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(shape)


def load_train(folder):
    x = read_idx(os.path.join(folder, "train-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    x = x.astype(np.float32) / np.float32(255.0)
    # Normalization.of: mean and population std of x/255 over the whole train split, computed in float64.
    xd = x.astype(np.float64)
    mean = xd.mean()
    std = max(1e-6, float(np.sqrt(max(0.0, (xd * xd).mean() - mean * mean))))
    x = ((x - np.float32(mean)) / np.float32(std)).astype(np.float32)
    return x.reshape(-1, 1, 28, 28), y.astype(np.int64)


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                         nn.Linear(128, 10))


def cnn(width=32):
    layers, cin = [], 1
    for filters in (width, 2 * width):
        layers += [nn.Conv2d(cin, filters, 3, padding=1, bias=False), nn.BatchNorm2d(filters), nn.ReLU(),
                   nn.MaxPool2d(2, 2)]
        cin = filters
    layers += [nn.Flatten(), nn.Linear(2 * width * 7 * 7, 4 * width), nn.ReLU(), nn.Linear(4 * width, 10)]
    return nn.Sequential(*layers)


def conv(cin, cout, k, stride):
    return nn.Conv2d(cin, cout, k, stride=stride, padding=k // 2, bias=False)


class Basic(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.main = nn.Sequential(conv(cin, cout, 3, stride), nn.BatchNorm2d(cout), nn.ReLU(),
                                  conv(cout, cout, 3, 1), nn.BatchNorm2d(cout))
        project = stride != 1 or cin != cout
        self.shortcut = nn.Sequential(conv(cin, cout, 1, stride), nn.BatchNorm2d(cout)) if project else nn.Identity()

    def forward(self, x):
        return F.relu(self.main(x) + self.shortcut(x))


def resnet20(width=16, n=3):
    layers = [conv(1, width, 3, 1), nn.BatchNorm2d(width), nn.ReLU()]
    cin = width
    for stage in range(3):
        cout = width << stage
        for b in range(n):
            stride = 2 if stage > 0 and b == 0 else 1
            layers.append(Basic(cin, cout, stride))
            cin = cout
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10)]
    return nn.Sequential(*layers)


MODELS = {"mlp": mlp, "cnn": cnn, "resnet20": resnet20}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(MODELS), default="mlp")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--interop-threads", type=int, default=None)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--fused", action="store_true", help="AdamW(fused=True) instead of the default implementation")
    ap.add_argument("--channels-last", action="store_true",
                    help="convolutional models: model.to(memory_format=torch.channels_last) and inputs laid out channels-last,"
                         " as PyTorch's CPU performance guide advises (no effect on the MLP)")
    ap.add_argument("--profile", help="write torch.profiler's operator trace of the timed steps (Chrome trace JSON) here")
    ap.add_argument("--matmul-peak", action="store_true",
                    help="measure this machine's fp32 matmul rate at --threads instead (GFLOP/s), the physical limit a"
                         " training step's FLOP/s is compared with")
    a = ap.parse_args()
    if a.matmul_peak:
        matmul_peak(a.threads)
        return

    torch.set_num_threads(a.threads)
    if a.interop_threads is not None:
        torch.set_num_interop_threads(a.interop_threads)
    torch.manual_seed(a.seed)
    x, y = load_train(a.data)
    order = np.random.default_rng(a.seed).permutation(len(y))
    per_epoch = len(y) // a.batch
    pool = min(per_epoch, a.warmup + a.steps)
    batches = []
    for i in range(pool):
        idx = order[i * a.batch:(i + 1) * a.batch]
        batches.append((np.ascontiguousarray(x[idx]), np.ascontiguousarray(y[idx])))

    model = MODELS[a.model]()
    channels_last = a.channels_last and a.model != "mlp"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    model.train()
    flops_per_sample = training_flops(model, batches[0], a.batch)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True if a.fused else None)
    loss_sum = 0.0
    start = 0.0
    for step in range(a.warmup + a.steps):
        if step == a.warmup:
            if a.profile:
                prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True)
                prof.__enter__()
            start = time.perf_counter()
        xb, yb = batches[step % pool]
        xt, yt = torch.from_numpy(xb), torch.from_numpy(yb)
        if channels_last:
            # Explicitly restrided: with one channel x.contiguous(memory_format=channels_last) returns x unchanged
            # (both layouts are the same bytes), and oneDNN then takes the ambiguous strides for NCHW.
            xt = torch.empty_like(xt, memory_format=torch.channels_last).copy_(xt)
        loss = F.cross_entropy(model(xt), yt)
        loss.backward()
        opt.step()
        opt.zero_grad()
        loss_sum += loss.item()
    seconds = time.perf_counter() - start
    if a.profile:
        prof.__exit__(None, None, None)
        prof.export_chrome_trace(a.profile)
    if not np.isfinite(loss_sum):
        raise SystemExit("loss is not finite")
    print(json.dumps({"impl": "pytorch", "model": a.model, "batch": a.batch, "threads": a.threads, "steps": a.steps,
                      "seconds": round(seconds, 4), "samples_per_second": round(a.steps * a.batch / seconds, 1),
                      "ms_per_step": round(seconds * 1000 / a.steps, 3),
                      "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
                      "parameter_tensors": sum(1 for p in model.parameters() if p.requires_grad),
                      "flops_per_sample": flops_per_sample,
                      "torch": torch.__version__}))


def training_flops(model, batch, size):
    """FLOPs of one training step's forward and backward per example, counted by PyTorch's own FlopCounterMode (matmul
    and convolution FLOPs, as MLPerf and the roofline literature count them); the optimizer's elementwise work is not
    counted. The model's gradients are cleared again, so the timed steps start as before."""
    from torch.utils.flop_counter import FlopCounterMode
    xb, yb = batch
    counter = FlopCounterMode(display=False)
    with counter:
        F.cross_entropy(model(torch.from_numpy(xb)), torch.from_numpy(yb)).backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops() / size


def matmul_peak(threads, n=2048, seconds=3.0):
    """The best of several timed fp32 n x n matmuls, in GFLOP/s (2 n^3 FLOPs each), after a warm-up."""
    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        torch.mm(a, b)
    best, deadline = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = max(best, 2 * n ** 3 / (time.perf_counter() - t0) / 1e9)
    print(json.dumps({"impl": "matmul", "threads": threads, "n": n, "gflops": round(best, 1), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
