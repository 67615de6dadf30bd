#!/usr/bin/env python3
"""Writes trainer-image/src/main/resources/dev/goodput/trainer/model/mlp/mlp_step.pt, the TorchScript module that
model.mlp.MlpStepKernel loads. The build has no Python, so the archive is checked in; rerun this after changing it:

  bench/.venv/bin/python trainer-image/src/main/torchscript/mlp_step.py

The archive must be read by the libtorch the trainer ships (DJL's pytorch-native-cpu, see the root pom), so write it
with the same torch version (bench/.venv has torch 2.7.1). It then checks the module's loss and gradients against
autograd's for the same network.

Why a module: the built-in MLP is small, so its training step is dominated by the cost of calling libtorch, not by
the arithmetic. Through DJL each op of the forward pass is a JNI call that wraps its result in a Java array, and
backward runs autograd's engine over the recorded graph. This module is the whole forward and backward pass of one
micro-batch in one call, with the backward written out: the same aten kernels autograd would run (addmm, relu,
log_softmax, nll_loss and their backward functions), no graph recorded, and the gradients written straight into the
trainer's gradient arrays (overwritten on a step's first micro-batch, added to on the others), which also saves
zeroing them between steps.

forward(x, y, weights, biases, weight_grads, bias_grads, loss_scale, accumulate) -> the micro-batch's mean loss.
x is (N, ...) and flattened to (N, features); y holds class indices (int64). Layer i computes
h_{i+1} = relu(h_i @ weights[i].T + biases[i]), the last without ReLU; the loss is the mean softmax cross-entropy of the
last layer's output. The gradients of loss * loss_scale are written into weight_grads and bias_grads (same shapes as
the parameters), added to what they hold when accumulate is true, or replacing it when false.
"""
import os
import sys
from typing import List

import torch
from torch import Tensor

OUT = "trainer-image/src/main/resources/dev/goodput/trainer/model/mlp/mlp_step.pt"


class MlpStep(torch.nn.Module):
    def forward(self, x: Tensor, y: Tensor, weights: List[Tensor], biases: List[Tensor], weight_grads: List[Tensor],
                bias_grads: List[Tensor], loss_scale: float, accumulate: bool) -> float:
        with torch.no_grad():
            h = x.reshape(x.size(0), -1)
            # Each layer's input, kept for its weight's gradient; a ReLU's output is also what its backward reads.
            inputs: List[Tensor] = []
            last = len(weights) - 1
            for i in range(last):
                inputs.append(h)
                h = torch.relu(torch.addmm(biases[i], h, weights[i].t()))
            inputs.append(h)
            logits = torch.addmm(biases[last], h, weights[last].t())
            log_probs = torch.log_softmax(logits, 1)
            loss, total_weight = torch.ops.aten.nll_loss_forward(log_probs, y, None, 1, -100)
            seed = torch.full([], loss_scale, dtype=loss.dtype, device=loss.device)
            g = torch.ops.aten.nll_loss_backward(seed, log_probs, y, None, 1, -100, total_weight)
            g = torch._log_softmax_backward_data(g, log_probs, 1, log_probs.dtype)
            # beta 0 ignores what the gradient holds (even NaN), so a step's first micro-batch needs no zeroed arrays.
            beta = 1.0 if accumulate else 0.0
            for i in range(last, -1, -1):
                a = inputs[i]
                weight_grads[i].addmm_(g.t(), a, beta=beta)
                if accumulate:
                    bias_grads[i].add_(g.sum(0))
                else:
                    torch.sum(g, 0, out=bias_grads[i])
                if i > 0:
                    # The input of layer i is the ReLU output of layer i - 1: its gradient is zero where that is.
                    g = torch.ops.aten.threshold_backward(torch.mm(g, weights[i]), a, 0.0)
            return loss.item()


def network(sizes):
    layers: List[torch.nn.Module] = [torch.nn.Flatten()]
    for i in range(len(sizes) - 1):
        layers.append(torch.nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def check(module):
    """The largest difference from autograd over a few networks, micro-batches and loss scales, relative to the
    gradient's size."""
    worst = 0.0
    for sizes in ([784, 256, 128, 10], [12, 5], [20, 16, 16, 16, 3]):
        torch.manual_seed(len(sizes))
        net = network(sizes)
        linears = [m for m in net if isinstance(m, torch.nn.Linear)]
        weights = [m.weight for m in linears]
        biases = [m.bias for m in linears]
        wg = [torch.full_like(w, float("nan")) for w in weights]
        bg = [torch.full_like(b, float("nan")) for b in biases]
        scale = 8.0 if len(sizes) == 2 else 1.0
        for k in range(3):
            x = torch.randn(7 + k, 1, 1, sizes[0])
            y = torch.randint(0, sizes[-1], (7 + k,))
            loss = torch.nn.functional.cross_entropy(net(x), y)
            (loss * scale).backward()
            ours = module(x, y, weights, biases, wg, bg, scale, k > 0)
            worst = max(worst, abs(ours - loss.item()))
            for a, p in zip(wg + bg, weights + biases):
                worst = max(worst, ((a - p.grad).abs().max() / p.grad.abs().max()).item())
    return worst


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    module = torch.jit.script(MlpStep())
    os.makedirs(os.path.dirname(out) or ".", exist_ok=True)
    module.save(out)
    diff = check(torch.jit.load(out))
    print(f"wrote {out} (torch {torch.__version__}); largest difference from autograd: {diff}")
    if diff > 1e-5:
        raise SystemExit("the MLP step does not match autograd")


if __name__ == "__main__":
    main()
