#!/usr/bin/env python3
"""Writes small TorchScript archives for the trainer's tests of odd module layouts (the example network covers the
common one). Run from the repository root with the torch the trainer's libtorch matches (2.7.1):

  bench/.venv/bin/python trainer-image/src/test/python/torchscript_fixtures.py

nested_buffers.pt: traced in train mode, so its classes carry torch.jit's mangled names; buffers in nn.Sequential
children (named "0", "1"), in a ModuleList, a BatchNorm without running statistics (None buffers), a buffer of the
root module itself. nested_buffers.json: its buffers' names in named_buffers() order, with their values.
"""
import json
import os

import torch
from torch import nn

DIR = "trainer-image/src/test/resources/dev/goodput/trainer/model/torchscript"


class Nested(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("calls", torch.zeros((), dtype=torch.long))
        self.stem = nn.Sequential(nn.Conv2d(1, 4, 3, stride=2), nn.BatchNorm2d(4, affine=False))
        self.blocks = nn.ModuleList([nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)),
                                     nn.BatchNorm2d(4, track_running_stats=False)])
        self.head = nn.Linear(4 * 13 * 13, 10)

    def forward(self, inputs):
        self.calls += 1
        x = self.stem(inputs)
        for block in self.blocks:
            x = block(x)
        return self.head(torch.flatten(x, 1))


def main():
    torch.manual_seed(0)
    model = Nested().train()
    traced = torch.jit.trace(model, torch.randn(4, 1, 28, 28), check_trace=False)
    path = os.path.join(DIR, "nested_buffers.pt")
    traced.save(path)
    loaded = torch.jit.load(path)
    buffers = {name: b.flatten().tolist() for name, b in loaded.named_buffers()}
    with open(os.path.join(DIR, "nested_buffers.json"), "w") as f:
        json.dump(buffers, f, indent=1)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes); buffers: {', '.join(buffers)}")


if __name__ == "__main__":
    main()
