#!/usr/bin/env python3
"""MiniLM-L6 fine-tuning: the trainer (`trainer bench --model bert-classifier`) against PyTorch 2.7.1 eager
(pytorch_minilm.py: transformers' BertModel, AdamW(fused=True), PEFT LoRA, transformers' own gradient checkpointing),
side by side: same weights, tokenizer, sequence length, batch and threads, modes full / LoRA / LoRA + gradient
checkpointing. Each repetition runs every (mode, side) once, alternating which side goes first, after waiting for a
quiet machine (bench/throughput/run.py's gate). Reports samples/s and whole-process peak RSS (the JVM's VmHWM, Python's
ru_maxrss), every repetition and the medians, to bench/results/minilm-finetune-<date>.md. Run by run.sh.
"""
import argparse
import datetime
import os
import statistics
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "throughput"))
import run as harness  # noqa: E402  (the throughput harness: load gate, JSON runner, machine description)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MODES = {
    "full": ([], "full"),
    "lora": (["--lora", "8"], "lora"),
    "lora+checkpointing": (["--lora", "8", "--checkpointing"], "lora+checkpointing"),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--jar", default=os.path.join(ROOT, "bench", "throughput", "target", "goodput-trainer.jar"))
    ap.add_argument("--python", default=os.path.join(ROOT, "bench", ".venv", "bin", "python"))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--max-load", type=float, default=1.3)
    ap.add_argument("--max-busy", type=float, default=0.15)
    ap.add_argument("--max-wait", type=float, default=600)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    jvm = harness.image_jvm_options()
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    common = ["--batch", str(args.batch), "--seq", str(args.seq), "--threads", str(args.threads),
              "--steps", str(args.steps), "--warmup", str(args.warmup)]
    results = {m: {"trainer": [], "pytorch": []} for m in args.modes.split(",")}
    notes = []
    for rep in range(args.reps):
        for i, mode in enumerate(results):
            extra, peer_mode = MODES[mode]
            sides = ["trainer", "pytorch"] if (rep + i) % 2 == 0 else ["pytorch", "trainer"]
            for side in sides:
                ld, busy, waited = harness.wait_quiet(args.max_load, args.max_busy, args.max_wait, print)
                if side == "trainer":
                    cmd = ["java"] + jvm + ["-jar", args.jar, "bench", "--model", "bert-classifier"] + common + extra
                else:
                    cmd = [args.python, os.path.join(ROOT, "bench", "transformers", "pytorch_minilm.py"),
                           "--mode", peer_mode] + common
                r = harness.run_json(cmd, env, timeout=1800)
                r["load"] = ld
                results[mode][side].append(r)
                print(f"rep {rep + 1} {mode:20s} {side:8s} {r['samples_per_second']:7.2f} samples/s "
                      f"{r['peak_rss_mib']:6d} MiB (load {ld:.2f}, busy {busy:.0%})", flush=True)

    now = datetime.datetime.now(datetime.timezone.utc)
    out = args.out or os.path.join(ROOT, "bench", "results", f"minilm-finetune-{now:%Y-%m-%d-%H%M}.md")
    lines = [f"# MiniLM-L6 fine-tuning: trainer vs PyTorch 2.7.1 eager, {now:%Y-%m-%d %H:%M} UTC", "",
             f"- command: `bench/transformers/run.sh {' '.join(sys.argv[1:])}`",
             f"- machine: {harness.cpu_model()}, {os.cpu_count()} CPUs; commit {harness.git('rev-parse', '--short', 'HEAD')}"
             f"{' (dirty)' if harness.git('status', '--porcelain') else ''}",
             f"- model: all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384) + a 2-class head on mean pooling; Rotten Tomatoes"
             f" snippets padded to {args.seq} tokens; batch {args.batch}; {args.threads} threads; AdamW; LoRA rank 8,"
             f" alpha 16, dropout 0.1 on query and value; {args.steps} timed steps after {args.warmup}",
             f"- trainer JVM options (as the CPU image runs it): `{' '.join(jvm)}`; peak RSS is the whole process's"
             " (VmHWM for the JVM, ru_maxrss for Python), model loading included",
             "", "| mode | trainer samples/s | PyTorch samples/s | trainer ÷ PyTorch | trainer peak RSS MiB | PyTorch peak RSS MiB |"
             " per-repetition ratios |", "|---|---:|---:|---:|---:|---:|---|"]
    for mode, r in results.items():
        t = [x["samples_per_second"] for x in r["trainer"]]
        p = [x["samples_per_second"] for x in r["pytorch"]]
        tm = [x["peak_rss_mib"] for x in r["trainer"]]
        pm = [x["peak_rss_mib"] for x in r["pytorch"]]
        ratios = " · ".join(f"{a / b:.2f}" for a, b in zip(t, p))
        lines.append(f"| {mode} | {statistics.median(t):.2f} | {statistics.median(p):.2f} | "
                     f"**{statistics.median(t) / statistics.median(p):.2f}** | {statistics.median(tm):.0f} | "
                     f"{statistics.median(pm):.0f} | {ratios} |")
    lines += ["", "Loads at the start of each measurement: " + ", ".join(
        f"{x['load']:.2f}" for r in results.values() for side in r.values() for x in side)]
    lines += notes
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote " + out)


if __name__ == "__main__":
    main()
