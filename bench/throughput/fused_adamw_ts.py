#!/usr/bin/env python3
"""Writes a TorchScript module whose forward runs torch._fused_adamw_ over all parameters at once, and checks it
against torch.optim.AdamW. A suggestion for the trainer's optim/AdamW (not used by it yet): from Java, one
IValueUtils.runMethod call per step (lists built with IValue.listFrom) replaces DJL's native adamUpdate per
parameter, which clones the gradient and allocates six temporaries per parameter.

  bench/.venv/bin/python bench/throughput/fused_adamw_ts.py OUT.pt

forward(params, grads, exp_avgs, exp_avg_sqs, hyper) with hyper = [step, lr, beta1, beta2, weight_decay, eps,
grad_scale]; grad_scale multiplies the gradients first, like Optimizer.step's gradScale. The archive is ~3 KB.
"""
import sys
from typing import List, Optional

import torch
from torch import Tensor


class FusedAdamW(torch.nn.Module):
    def forward(self, params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor],
                hyper: List[float]) -> Tensor:
        step = torch.full([1], hyper[0])
        steps = [step for _ in range(len(params))]
        scale: Optional[Tensor] = None
        if hyper[6] != 1.0:
            scale = torch.full([1], 1.0 / hyper[6])  # the fused kernel divides the gradients by grad_scale
        torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=hyper[1], beta1=hyper[2],
                            beta2=hyper[3], weight_decay=hyper[4], eps=hyper[5], amsgrad=False, maximize=False,
                            grad_scale=scale, found_inf=None)
        return step


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "fused_adamw.pt"
    module = torch.jit.script(FusedAdamW())
    module.save(out)
    torch.manual_seed(0)
    ps = [torch.randn(5, 3, requires_grad=True), torch.randn(7, requires_grad=True)]
    qs = [p.detach().clone().requires_grad_(True) for p in ps]
    reference = torch.optim.AdamW(qs, lr=1e-3, weight_decay=0.01)
    ms = [torch.zeros_like(p) for p in ps]
    vs = [torch.zeros_like(p) for p in ps]
    for t in range(1, 4):
        gs = [torch.randn_like(p) for p in ps]
        for q, g in zip(qs, gs):
            q.grad = g.clone()
        reference.step()
        with torch.no_grad():
            module(ps, [g.clone() for g in gs], ms, vs, [float(t), 1e-3, 0.9, 0.999, 0.01, 1e-8, 1.0])
    diff = max((p - q).abs().max().item() for p, q in zip(ps, qs))
    print(f"wrote {out}; max |difference| from torch.optim.AdamW after 3 steps: {diff}")


if __name__ == "__main__":
    main()
