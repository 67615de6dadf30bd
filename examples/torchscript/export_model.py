#!/usr/bin/env python3
"""Exports a small CNN for Fashion-MNIST (1x28x28 images, 10 classes) as a TorchScript archive the Goodput trainer
can train: examples/torchscript/fashion_cnn.pt, or with --stages the same network as a folder of stages,
examples/torchscript/fashion_cnn_stages/. Run it from the repository root:

  bench/.venv/bin/python examples/torchscript/export_model.py [OUT.pt]
  bench/.venv/bin/python examples/torchscript/export_model.py --stages [OUT_FOLDER]

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

Stages, for gradient checkpointing (spec.training.gradientCheckpointing: true). A model given as a folder instead of
a file is trained as a sequence of stages: stage-0.pt, stage-1.pt, ... stage-K.pt, numbered from 0 without gaps and
nothing else named stage-*.pt. Each is a torch.jit.script of an nn.Module with forward(x: Tensor) -> Tensor; stage 0
takes the inputs described above, stage i+1 takes exactly what stage i returns, and the last returns the (N, classes)
logits. The trainer runs them in order, as one model. With gradient checkpointing it keeps only each stage's input
during the forward pass and runs each stage again during the backward pass, so a step needs the activations of one
stage at a time instead of all of them, for about one more forward pass of compute. What a stage is, is up to you:
cut where the tensor passed on is small compared with the activations inside the stage (after pooling, between
residual blocks, between transformer layers); a few stages of similar size lower the peak the most. Everything
above applies to each stage: train mode before scripting, one tensor in, one tensor out, parameters and buffers of
its own (a parameter cannot be shared between stages). Inside the trainer a stage's parameters and buffers are
named "<stage>.<name>", <stage> being the file's name without .pt: "stage-2.head.weight" in checkpoints, in
/progress and for spec.model.trainable (e.g. trainable: "^stage-2\\." trains the last stage only). A trained staged
model is written back as a folder of the same stage-i.pt files, which spec.model.torchscript can name to train it
further. This script's --stages splits FashionCnn into four stages: the two conv blocks, the dense layer and the head.
"""
import os
import sys

import torch
from torch import nn

OUT = "examples/torchscript/fashion_cnn.pt"
OUT_STAGES = "examples/torchscript/fashion_cnn_stages"


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


class ConvBlock(nn.Module):
    """Stage: conv + BatchNorm + GELU + max-pool, the same layers FashionCnn's forward applies twice."""

    def __init__(self, conv: nn.Conv2d, bn: nn.BatchNorm2d, pool: nn.MaxPool2d, act: nn.GELU):
        super().__init__()
        self.conv = conv
        self.bn = bn
        self.pool = pool
        self.act = act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.act(self.bn(self.conv(x))))


class Dense(nn.Module):
    """Stage: flatten, the dense layer, LayerNorm, GELU and dropout."""

    def __init__(self, fc: nn.Linear, norm: nn.LayerNorm, act: nn.GELU, dropout: nn.Dropout):
        super().__init__()
        self.fc = fc
        self.norm = norm
        self.act = act
        self.dropout = dropout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.act(self.norm(self.fc(torch.flatten(x, 1)))))


class Head(nn.Module):
    """Last stage: the classifier and the learned temperature, to (N, classes) logits."""

    def __init__(self, head: nn.Linear, logit_scale: nn.Parameter):
        super().__init__()
        self.head = head
        self.logit_scale = logit_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(x) * self.logit_scale


def stages(model: FashionCnn):
    """FashionCnn cut into stages that share its layers (and so its initial weights): x -> stage 0 -> ... -> logits."""
    return [ConvBlock(model.conv1, model.bn1, model.pool, model.act),
            ConvBlock(model.conv2, model.bn2, model.pool, model.act),
            Dense(model.fc, model.norm, model.act, model.dropout),
            Head(model.head, model.logit_scale)]


def export_stages(folder: str):
    torch.manual_seed(0)
    model = FashionCnn()
    model.train()
    os.makedirs(folder, exist_ok=True)
    for old in os.listdir(folder):
        if old.startswith("stage-") and old.endswith(".pt"):
            os.remove(os.path.join(folder, old))
    scripted = [torch.jit.script(s.train()) for s in stages(model)]
    # Check the sequence as the trainer will: in eval mode, the stages in order give the whole model's logits.
    x = torch.randn(4, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        expected = model(x)
        out = x
        for s in scripted:
            s.eval()
            out = s(out)
    assert out.shape == (4, 10), out.shape
    assert torch.allclose(out, expected), "the stages do not compute the model"
    for i, s in enumerate(scripted):
        s.train()
        path = os.path.join(folder, f"stage-{i}.pt")
        s.save(path)
        print(f"wrote {path}; parameters: " + ", ".join(f"stage-{i}.{n} {tuple(p.shape)}" for n, p in s.named_parameters()))
    print(f"torch {torch.__version__}")


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--stages":
        export_stages(sys.argv[2] if len(sys.argv) > 2 else OUT_STAGES)
        return
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
