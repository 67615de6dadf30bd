#!/usr/bin/env python3
"""Where a training step's time goes, from the Chrome traces that `trainer bench --profile` and
`pytorch_reference.py --profile` write (libtorch's profiler on both sides): self time per step of each group of aten
ops on the stepping thread, and the time outside any op (Java or Python, JNI, and waits between ops).

  bench/throughput/op_profile.py STEPS TRACE.json [TRACE.json ...]     # STEPS: the --steps of the runs

Prints a Markdown table, one column per trace. The trainer's profiler (libtorch's legacy one) costs more per op than
torch.profiler, so small groups read a little high on the trainer's side.
"""
import collections
import json
import sys

GROUPS = [
    ("optimizer", ("_fused_adamw_", "Optimizer.step")),
    ("conv fwd+bwd", ("onvolution", "conv2d")),
    ("batchnorm fwd+bwd", ("batch_norm", "BatchNorm")),
    ("maxpool fwd+bwd", ("max_pool", "MaxPool")),
    ("relu fwd+bwd", ("relu", "Relu", "threshold_backward")),
    ("linear fwd+bwd", ("addmm", "Addmm", "aten::mm", "TBackward", "aten::t ", "linear")),
    ("loss fwd+bwd", ("oftmax", "nll", "Nll", "gather", "Gather", "mean", "Mean", "neg", "Neg", "cross_entropy")),
    ("gradient accumulation", ("AccumulateGrad",)),
    ("zero gradients", ("aten::zero_", "aten::fill_", "zero_grad")),
]
# DJL's per-parameter adamUpdate shows as these ops at the top level, outside any autograd node.
OPTIMIZER_TOP_LEVEL = {"aten::mul", "aten::sub_", "aten::add", "aten::add_", "aten::clone", "aten::mul_", "aten::div",
                       "aten::sqrt", "aten::addcmul_", "aten::lerp_", "aten::addcdiv_", "aten::item"}
OUTSIDE = "outside ops (Java or Python, JNI, waits)"


def group(chain):
    text = " ".join(chain) + " "
    for name, keys in GROUPS:
        if any(k in text for k in keys):
            return name
    return "optimizer" if chain[0] in OPTIMIZER_TOP_LEVEL else "other"


def per_step(path, steps):
    doc = json.load(open(path))
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    events = [e for e in events if e.get("ph") == "X" and "dur" in e and e.get("cat") in (None, "cpu_op")]
    by_thread = collections.defaultdict(list)
    for e in events:
        by_thread[e.get("tid")].append(e)
    stepping = max(by_thread.values(), key=len)
    stepping.sort(key=lambda e: (float(e["ts"]), -float(e["dur"])))
    totals = collections.Counter()
    stack, top_level = [], 0.0
    for e in stepping:
        start, dur = float(e["ts"]), float(e["dur"])
        while stack and float(stack[-1]["ts"]) + float(stack[-1]["dur"]) <= start + 1e-6:
            stack.pop()
        e["_self"] = dur
        if stack:
            stack[-1]["_self"] -= dur
        else:
            top_level += dur
        e["_group"] = group([x["name"] for x in stack] + [e["name"]])
        stack.append(e)
    for e in stepping:
        totals[e["_group"]] += e["_self"]
    wall = max(float(e["ts"]) + float(e["dur"]) for e in stepping) - float(stepping[0]["ts"])
    totals[OUTSIDE] = wall - top_level
    return {k: v / 1000 / steps for k, v in totals.items()}, wall / 1000 / steps


def main():
    steps, paths = int(sys.argv[1]), sys.argv[2:]
    cols = [per_step(p, steps) for p in paths]
    print("| ms per step (profiled) | " + " | ".join(paths) + " |")
    print("|---|" + "---:|" * len(paths))
    for name in [g for g, _ in GROUPS] + ["other", OUTSIDE]:
        print(f"| {name} | " + " | ".join(f"{c.get(name, 0):.2f}" for c, _ in cols) + " |")
    print("| **step (profiled)** | " + " | ".join(f"**{w:.2f}**" for _, w in cols) + " |")


if __name__ == "__main__":
    main()
