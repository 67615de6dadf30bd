#!/usr/bin/env python3
"""Gradient accumulation parity: the same global batch (128) in one pass and as 4 accumulated micro-batches of 32,
same seed, same epochs, on the full Fashion-MNIST CNN of examples/fashion-mnist.yaml; reports both test accuracies.

Usage: python3 bench/accumulation_parity.py [--epochs 4]
"""
import argparse, datetime, os, platform, re, subprocess, tempfile, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "trainer-image", "target", "goodput-trainer.jar")
JOB = os.path.join(ROOT, "examples", "fashion-mnist.yaml")


def run(micro, epochs):
    ckpt = tempfile.mkdtemp(prefix="gp-acc-")
    try:
        out = subprocess.run(["java", "-jar", JAR, "run", JOB, "--checkpoint-dir", ckpt, "--progress", "log",
                              "--set", f"spec.training.epochs={epochs}", "--set", "spec.target=null",
                              "--set", "spec.training.globalBatchSize=128", "--set", f"spec.training.batchSize={micro}"],
                             capture_output=True, text=True, check=True).stdout
        batch = re.search(r"batch (\d+ = \d+ x \d+)", out).group(1)
        acc = float(re.search(r"\| test accuracy\s+\|\s+([0-9.]+) \|", out).group(1))
        return batch, acc
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    a = ap.parse_args()
    rows = [run(128, a.epochs), run(32, a.epochs)]
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    path = os.path.join(ROOT, "bench", "results", "accumulation-parity.md")
    with open(path, "w") as f:
        f.write("# Gradient accumulation parity\n\n")
        f.write(f"- date: {datetime.date.today()}\n- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}\n")
        f.write(f"- command: `python3 bench/accumulation_parity.py --epochs {a.epochs}`\n")
        f.write(f"- job: examples/fashion-mnist.yaml, global batch 128, {a.epochs} epochs (cosine schedule over them), seed 42, no target\n\n")
        f.write("| batch | test accuracy |\n|---|---|\n")
        for b, x in rows:
            f.write(f"| {b} | {x:.4f} |\n")
        f.write(f"\nDifference: {abs(rows[0][1] - rows[1][1]) * 100:.2f} percentage points (the issue asks for at most 0.3). "
                "The runs differ where they must: BatchNorm normalises each micro-batch of 32 with its own statistics, and floating-point sums run in another order.\n")
    print(open(path).read())


if __name__ == "__main__":
    main()
