#!/usr/bin/env python3
"""Test accuracy of MiniLM-L6 on the Rotten Tomatoes snippets after one epoch, three ways, each a real trainer run of
examples/rotten-tomatoes-lora.yaml (batch 32, cosine schedule, seed 42): the example itself (LoRA rank 8 on query and
value), a full fine-tune (no adapters, every weight trains), and a linear probe (trainable: '^classifier\\.', only the
head trains). Reports test accuracy, trainable parameters, training time, samples/s and peak RSS from each run's
termination log, to bench/results/minilm-accuracy-<date>.md. Then, for the memory side of gradient checkpointing, the
micro-batch the tuner (batchSize: auto) finds for a full fine-tune at 128 tokens under the same memory budget, with and
without gradientCheckpointing.

    bench/.venv/bin/python bench/transformers/accuracy.py [--jar bench/throughput/target/goodput-trainer.jar]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "throughput"))
import run as harness  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLE = os.path.join(ROOT, "examples", "rotten-tomatoes-lora.yaml")

VARIANTS = {
    # name: (text to replace in spec.model's lora line, learning rate)
    "LoRA r8 (the example)": (None, "0.001"),
    "full fine-tune": ("", "0.00005"),
    "linear probe": ("    trainable: '^classifier\\.'", "0.001"),
}


def manifest(lora_line, lr, extra_training=""):
    text = open(EXAMPLE).read()
    text = text.replace("pretrained: goodput-data/", f"pretrained: {ROOT}/goodput-data/")
    text = text.replace("path: goodput-data/", f"path: {ROOT}/goodput-data/")
    if lora_line is not None:
        text = re.sub(r"    lora: \{.*\}\n", lora_line + ("\n" if lora_line else ""), text)
    text = text.replace("lr: 0.001", f"lr: {lr}")
    if extra_training:
        text = text.replace("  training:\n", "  training:\n" + extra_training)
    return text


def run(jar, jvm, text, workdir, sets=()):
    path = os.path.join(workdir, "job.yaml")
    with open(path, "w") as f:
        f.write(text)
    term = os.path.join(workdir, "term.json")
    cmd = ["java"] + jvm + ["-jar", jar, "run", path, "--checkpoint-dir", os.path.join(workdir, "ckpt"),
                            "--termination-log", term, "--progress", "log"]
    for s in sets:
        cmd += ["--set", s]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=7200)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-2000:]}")
    with open(term) as f:
        return json.load(f), p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jar", default=os.path.join(ROOT, "bench", "throughput", "target", "goodput-trainer.jar"))
    ap.add_argument("--budget", default="3Gi", help="memory budget for the tuner comparison")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-tuner", action="store_true")
    args = ap.parse_args()
    jvm = harness.image_jvm_options()
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [f"# MiniLM-L6 on Rotten Tomatoes: LoRA vs full fine-tune vs linear probe, {now:%Y-%m-%d %H:%M} UTC", "",
             f"- command: `bench/.venv/bin/python bench/transformers/accuracy.py {' '.join(sys.argv[1:])}`",
             f"- machine: {harness.cpu_model()}, {os.cpu_count()} CPUs; commit {harness.git('rev-parse', '--short', 'HEAD')}"
             f"{' (dirty)' if harness.git('status', '--porcelain') else ''}; 1-minute load at the start {harness.load1():.2f}",
             "- each row: `examples/rotten-tomatoes-lora.yaml` as written (1 epoch of 10,327 snippets, batch 32, cosine,"
             " seed 42, padding to each batch's longest), changed only as the row says; test accuracy on all 2,425"
             " test snippets after the epoch", ""]
    if not args.skip_accuracy:
        lines += ["| variant | lr | trainable parameters | test accuracy | test loss | training time | samples/s | peak RSS MiB |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for name, (lora, lr) in VARIANTS.items():
            harness.wait_quiet(1.3, 0.15, 600, print)
            with tempfile.TemporaryDirectory() as d:
                r, out = run(args.jar, jvm, manifest(lora, lr), d)
            m = re.search(r"model bert-classifier: ([0-9,]+)( of [0-9,]+ parameters train| parameters)", out)
            seconds = r["trainingSeconds"]
            row = (f"| {name} | {lr} | {m.group(1) if m else '?'} | {r['testAccuracy']:.4f} | {r['testLoss']:.4f} | "
                   f"{seconds / 60:.1f} min | {r['progress']['samples'] / seconds:.1f} | {r['peakMemoryBytes'] >> 20} |")
            print(row, flush=True)
            lines.append(row)
        lines.append("")
    if not args.skip_tuner:
        lines += [f"Largest micro-batch the tuner finds (`batchSize: auto`, memoryBudget {args.budget}, full fine-tune,"
                  " every batch padded to 128 tokens, globalBatchSize 256):", "",
                  "| gradientCheckpointing | tuned micro-batch | tuning time |", "|---|---:|---:|"]
        for gc in (False, True):
            harness.wait_quiet(1.3, 0.15, 600, print)
            extra = (f"    memoryBudget: {args.budget}\n    maxSteps: 1\n    globalBatchSize: 256\n"
                     + ("    gradientCheckpointing: true\n" if gc else ""))
            text = manifest("", "0.00005", extra).replace("padding: longest", "padding: max")
            text = text.replace("    epochs: 1\n", "").replace("    globalBatchSize: 32\n", "")
            with tempfile.TemporaryDirectory() as d:
                r, out = run(args.jar, jvm, text, d, sets=["spec.data.testLimit=64"])
            tb = r.get("tunedBatch") or {}
            row = f"| {'on' if gc else 'off'} | {tb.get('micro', '?')} | {r.get('tuningSeconds', 0):.0f} s |"
            print(row, flush=True)
            lines.append(row)
    out = os.path.join(ROOT, "bench", "results", f"minilm-accuracy-{now:%Y-%m-%d-%H%M}.md")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote " + out)


if __name__ == "__main__":
    main()
