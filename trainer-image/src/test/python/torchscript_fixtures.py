#!/usr/bin/env python3
"""Writes small TorchScript archives for the trainer's tests of odd module layouts (the example network covers the
common one). Run from the repository root with the torch the trainer's libtorch matches (2.7.1):

  bench/.venv/bin/python trainer-image/src/test/python/torchscript_fixtures.py

nested_buffers.pt: traced in train mode, so its classes carry torch.jit's mangled names; buffers in nn.Sequential
children (named "0", "1"), in a ModuleList, a BatchNorm without running statistics (None buffers), a buffer of the
root module itself. nested_buffers.json: its buffers' names in named_buffers() order, with their values.

deep_stages/stage-0.pt ... stage-5.pt: a model given as stages, deep enough for gradient checkpointing to matter: a
stem and four conv + BatchNorm + GELU + dropout blocks at full 28x28 resolution (16 channels), then the pooled head.
Every stage's activations are of the same size, so a plain step holds five stages' worth and a recomputed one about
one.
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


class Block(nn.Module):
    def __init__(self, channels_in: int, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels_in, channels, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(channels)
        self.act = nn.GELU()
        self.dropout = nn.Dropout(0.1)

    def forward(self, x):
        return self.dropout(self.act(self.bn(self.conv(x))))


class Head(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.fc = nn.Linear(channels, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.mean(x, dim=(2, 3), keepdim=True), 1))


def deep_stages():
    torch.manual_seed(0)
    folder = os.path.join(DIR, "deep_stages")
    os.makedirs(folder, exist_ok=True)
    stages = [Block(1, 16)] + [Block(16, 16) for _ in range(4)] + [Head(16)]
    for i, stage in enumerate(stages):
        torch.jit.script(stage.train()).save(os.path.join(folder, f"stage-{i}.pt"))
    print(f"wrote {folder}: {len(stages)} stages")


def main():
    deep_stages()
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
