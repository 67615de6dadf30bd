#!/usr/bin/env python3
"""Tries torch.compile (inductor, the default backend) on one of pytorch_reference.py's models, as a user chasing
speed would, and prints each training step's seconds or the compile error. Why torch.compile is no peer in
run.py: see bench/README.md.

    bench/.venv/bin/python bench/throughput/torch_compile_try.py cnn          # fails here: CppCompileError
    bench/.venv/bin/python bench/throughput/torch_compile_try.py mlp --steps 60
"""
import argparse
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pytorch_reference  # noqa: E402  (the same models as the throughput benchmark)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", choices=sorted(pytorch_reference.MODELS))
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = pytorch_reference.MODELS[a.model]()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01, fused=True)
    compiled = torch.compile(model)
    x, y = torch.randn(a.batch, 1, 28, 28), torch.randint(0, 10, (a.batch,))
    try:
        for step in range(a.steps):
            t0 = time.perf_counter()
            F.cross_entropy(compiled(x), y).backward()
            opt.step()
            opt.zero_grad()
            print(f"step {step}: {time.perf_counter() - t0:.4f} s", flush=True)
    except Exception as e:  # the compile error is the finding: print it whole
        print(f"{type(e).__name__}: {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
