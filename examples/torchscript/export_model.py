#!/usr/bin/env python3
"""Exports a small CNN for Fashion-MNIST (1x28x28 images, 10 classes) as a TorchScript archive the Goodput trainer
can train: examples/torchscript/fashion_cnn.pt. Run it from the repository root:

  bench/.venv/bin/python examples/torchscript/export_model.py [OUT.pt]

What a module must be for the trainer to train it:

* Written by PyTorch 2.7.1 or older. The trainer runs libtorch 2.7.1 (DJL's pytorch-native-cpu); a newer PyTorch
  may write operators or a file format that it cannot read.
* forward(inputs) -> logits. inputs is float32 of shape (N, C, H, W), normalised per channel with the training
  split's mean and standard deviation; logits is (N, classes) for softmax cross-entropy. Nothing else goes in or
  out: no labels, no loss, no tuple.
* Put in train mode (model.train()) before torch.jit.script, and prefer torch.jit.script to torch.jit.trace. The
  trainer switches a module to train mode when it loads it and to eval mode for evaluation, which a scripted module
  follows. A traced module keeps the branches it took while tracing, whatever mode it is switched to: traced in eval
  mode, it trains with BatchNorm and dropout as in inference; traced in train mode, it also evaluates with batch
  statistics and dropout (and moves the running statistics while it evaluates).
* Parameters (nn.Parameter, the weights of nn layers) are what the trainer's optimizer updates; buffers
  (BatchNorm's running statistics) are checkpointed and restored with them and written into the exported model.
* To train only some parameters, give spec.model a `trainable` regular expression: parameters whose dotted names
  (as model.named_parameters() prints them, e.g. "head.weight") match it are trained, all others are frozen, e.g.
  trainable: "^(head|norm)\\." fine-tunes the classifier and the LayerNorm only. A regex that matches no parameter
  is refused. This script prints the names.
"""
import sys

import torch
from torch import nn

OUT = "examples/torchscript/fashion_cnn.pt"


class FashionCnn(nn.Module):
    """Two conv + BatchNorm + GELU + max-pool stages, a dense layer with LayerNorm and dropout, the classifier and a
    learned temperature: every kind of state the trainer must handle (a bare nn.Parameter, BatchNorm buffers,
    randomness in train mode)."""

    def __init__(self, classes: int = 10, width: int = 8, hidden: int = 64, dropout: float = 0.2):
        super().__init__()
        self.conv1 = nn.Conv2d(1, width, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, 2 * width, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(2 * width)
        self.pool = nn.MaxPool2d(2)
        self.act = nn.GELU()
        self.fc = nn.Linear(2 * width * 7 * 7, hidden)
        self.norm = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, classes)
        # A bare parameter, outside any layer: the logits' temperature.
        self.logit_scale = nn.Parameter(torch.ones(1))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.act(self.bn1(self.conv1(inputs))))
        x = self.pool(self.act(self.bn2(self.conv2(x))))
        x = self.act(self.norm(self.fc(torch.flatten(x, 1))))
        return self.head(self.dropout(x)) * self.logit_scale


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else OUT
    torch.manual_seed(0)
    model = FashionCnn()
    model.train()  # see above: export in train mode
    scripted = torch.jit.script(model)
    # The output the trainer checks when it loads the module: (N, classes) logits. Checked in eval mode, because a
    # forward in train mode would move BatchNorm's running statistics, which are saved with the module.
    scripted.eval()
    with torch.no_grad():
        logits = scripted(torch.randn(4, 1, 28, 28))
    assert logits.shape == (4, 10), logits.shape
    scripted.train()
    scripted.save(out)
    print(f"wrote {out} (torch {torch.__version__}); parameters:")
    for name, p in scripted.named_parameters():
        print(f"  {name} {tuple(p.shape)}")
    print("buffers: " + ", ".join(name for name, _ in scripted.named_buffers()))


if __name__ == "__main__":
    main()
