#!/usr/bin/env python3
"""Writes trainer-image/src/main/resources/dev/goodput/trainer/optim/fused_adamw.pt, the TorchScript module that
optim.FusedAdamWKernel loads. The build has no Python, so the archive is checked in; rerun this after changing it:

  bench/.venv/bin/python trainer-image/src/main/torchscript/fused_adamw.py

The archive must be read by the libtorch the trainer ships (DJL's pytorch-native-cpu, see the root pom), so write it
with the same torch version (bench/.venv has torch 2.7.1). It then checks the module against torch.optim.AdamW.

Why a module: DJL exposes AdamW only as one native call per parameter (JniUtils.adamUpdate), which clones the
gradient and makes about a dozen passes over each parameter. torch._fused_adamw_ updates every parameter in one pass
each, and one call through the module replaces the per-parameter calls.

forward(params, grads, exp_avgs, exp_avg_sqs, hyper) with hyper = [step, lr, beta1, beta2, weight_decay, eps,
grad_scale] updates params, exp_avgs and exp_avg_sqs in place. grad_scale multiplies the gradients first, like
Optimizer.step's gradScale; when it is not 1 the fused kernel also writes the scaled gradients back into grads.
"""
import os
import sys
from typing import List, Optional

import torch
from torch import Tensor

OUT = "trainer-image/src/main/resources/dev/goodput/trainer/optim/fused_adamw.pt"


class FusedAdamW(torch.nn.Module):
    def forward(self, params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor],
                hyper: List[float]) -> Tensor:
        # The kernel's scalars live with the parameters: its CUDA version reads them on the device.
        device = params[0].device if len(params) > 0 else torch.device("cpu")
        with torch.no_grad():
            # The kernel reads the step count from a float32 tensor per parameter (torch.optim keeps one each);
            # all parameters share the count, so one tensor serves them all.
            step = torch.full([1], hyper[0], dtype=torch.float32, device=device)
            steps = [step for _ in range(len(params))]
            scale: Optional[Tensor] = None
            if hyper[6] != 1.0:
                # The kernel divides the gradients by grad_scale (it exists to undo loss scaling).
                scale = torch.full([1], 1.0 / hyper[6], dtype=torch.float32, device=device)
            torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=hyper[1], beta1=hyper[2],
                                beta2=hyper[3], weight_decay=hyper[4], eps=hyper[5], amsgrad=False, maximize=False,
                                grad_scale=scale, found_inf=None)
        return step


def check(module):
    torch.manual_seed(0)
    ps = [torch.randn(5, 3, requires_grad=True), torch.randn(7, requires_grad=True)]
    qs = [p.detach().clone().requires_grad_(True) for p in ps]
    reference = torch.optim.AdamW(qs, lr=1e-3, weight_decay=0.01)
    ms = [torch.zeros_like(p) for p in ps]
    vs = [torch.zeros_like(p) for p in ps]
    for t in range(1, 6):
        gs = [torch.randn_like(p) for p in ps]
        for q, g in zip(qs, gs):
            q.grad = g.clone() * 0.5
        reference.step()
        module(ps, [g.clone() for g in gs], ms, vs, [float(t), 1e-3, 0.9, 0.999, 0.01, 1e-8, 0.5])
    return max((p - q).abs().max().item() for p, q in zip(ps, qs))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    module = torch.jit.script(FusedAdamW())
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    module.save(out)
    diff = check(torch.jit.load(out))
    print(f"wrote {out} (torch {torch.__version__}); max |difference| from torch.optim.AdamW after 5 steps: {diff}")
    if diff > 1e-6:
        raise SystemExit("the fused module does not match torch.optim.AdamW")


if __name__ == "__main__":
    main()
