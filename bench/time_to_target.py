#!/usr/bin/env python3
"""Time-to-target on Fashion-MNIST: a naive configuration against Goodput's defaults, same CNN, same target.

naive:   fp32, batch 32, constant learning rate 1e-3 (AdamW), 1 loader thread with no prefetch (workers 0: batches
         built on the training thread), the weights themselves evaluated (no moving average)
goodput: examples/fashion-mnist.yaml as shipped (batch 128, lr 5e-3 with warmup + cosine over its 4 epochs,
         evaluating the weights' moving average (emaDecay 0.99), prefetching loader, patience 3)

Both stop at test accuracy 0.916; the naive run may take up to 30 epochs (its constant LR has no schedule length to
keep), Goodput's keeps the manifest's 4, because its cosine decay is planned over them. Runs alternate; the medians and the ratio go to
bench/results/time-to-target-<date>.md.

Both run as the trainer image runs the JVM (-XX:TieredStopAtLevel=1), and both evaluate on the test set at the same
sample counts (every --eval-every-samples, default 30,000: half an epoch), so that neither is favoured by how late its
crossing of the target is seen, and the accuracies at the stop overshoot the target by similar amounts.

With --before-jar OLD.jar the two configurations are Goodput's defaults on an earlier commit's trainer ("before")
and on the current one, alternating, for a before-vs-after comparison of a change.

With --seeds 42,7,1 each repetition runs both configurations once per seed (spec.training.seed: initialisation, data
order, augmentation), and the file gives each seed's ratio and the median of those ratios: one seed's naive run crosses
the target anywhere between 5.5 and 7 epochs, so one seed cannot settle a ratio.

Usage: python3 bench/time_to_target.py [--repeats 1] [--seeds 42] [--before-jar OLD.jar]
"""
import argparse, datetime, os, platform, re, statistics, subprocess, tempfile, shutil

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "trainer-image", "target", "goodput-trainer.jar")
JOB = os.path.join(ROOT, "examples", "fashion-mnist.yaml")
NAIVE = ["--set", "spec.training.epochs=30", "--set", "spec.training.maxDuration=60m", "--set", "spec.target.patience=30",
         "--set", "spec.training.globalBatchSize=32", "--set", "spec.training.batchSize=32",
         "--set", "spec.training.optimizer.lr=0.001", "--set", "spec.training.optimizer.weightDecay=0",
         "--set", "spec.training.schedule.name=constant", "--set", "spec.training.schedule.warmupSteps=0",
         "--set", "spec.training.precision=fp32", "--set", "spec.data.loader.workers=0",
         "--set", "spec.data.loader.prefetch=0", "--set", "spec.training.emaDecay=null"]


def eval_every(extra, samples):
    batch = next((int(v.split("=")[1]) for v in extra if v.startswith("spec.training.globalBatchSize=")), 128)
    return ["--set", f"spec.target.evalEverySteps={max(1, samples // batch)}"]


def run(jar, extra):
    ckpt = tempfile.mkdtemp(prefix="gp-ttt-")
    try:
        out = subprocess.run(["java", "-XX:TieredStopAtLevel=1", "-jar", jar, "run", JOB, "--checkpoint-dir", ckpt, "--progress", "log"] + extra,
                             capture_output=True, text=True, check=True).stdout
        ttt = re.search(r"\| time to target\s+\|\s+(.+?) \|", out).group(1).strip()
        acc = float(re.search(r"\| test accuracy\s+\|\s+([0-9.]+) \|", out).group(1))
        evals = re.findall(r"eval  step (\d+)  epoch (\d+)  test accuracy ([0-9.]+)", out)
        seconds = to_seconds(ttt) if ttt != "not reached" else None
        return seconds, acc, len(evals)
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)


def to_seconds(text):
    total = 0
    for value, unit in re.findall(r"(\d+)([hms])", text):
        total += int(value) * {"h": 3600, "m": 60, "s": 1}[unit]
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seeds", default="42", help="comma-separated spec.training.seed values; every one runs both configurations")
    ap.add_argument("--eval-every-samples", type=int, default=30000)
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", f"time-to-target-{datetime.date.today()}.md"))
    ap.add_argument("--before-jar", default=None,
                    help="before vs after: Goodput's defaults with this (an earlier commit's) jar against the current one")
    a = ap.parse_args()
    # A private copy of the jar, so that a rebuild during the (long) run cannot swap it between runs.
    jar = os.path.join(tempfile.mkdtemp(prefix="gp-ttt-jar-"), "goodput-trainer.jar")
    shutil.copy2(JAR, jar)
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = []
    configs = (("naive", NAIVE, jar), ("goodput", [], jar))
    if a.before_jar:
        before = os.path.join(os.path.dirname(jar), "before.jar")
        shutil.copy2(a.before_jar, before)
        configs = (("before", [], before), ("goodput", [], jar))
    base = configs[0][0]
    seeds = [int(x) for x in a.seeds.split(",")]
    for r in range(a.repeats):
        for seed in seeds:
            for name, extra, which in configs:
                load = open("/proc/loadavg").read().split()[0]
                seeded = extra + ["--set", f"spec.training.seed={seed}"]
                seconds, acc, evals = run(which, seeded + eval_every(extra, a.eval_every_samples))
                rows.append((name, seconds, acc, evals, load, seed))
                print(f"{name} seed {seed}: time to target {seconds}s, final accuracy {acc}, {evals} evaluations (load {load})",
                      flush=True)
    med = {n: statistics.median([s for m, s, *_ in rows if m == n and s is not None] or [float("nan")]) for n in (base, "goodput")}
    # Each seed's ratio: the median of its base times over the median of its Goodput times (over repetitions).
    ratios = {}
    for seed in seeds:
        t = {n: [s for m, s, _, _, _, sd in rows if m == n and sd == seed and s is not None] for n in (base, "goodput")}
        if t[base] and t["goodput"]:
            ratios[seed] = statistics.median(t[base]) / statistics.median(t["goodput"])
    acc = {n: statistics.median([x for m, _, x, *_ in rows if m == n]) for n in (base, "goodput")}
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "")
    with open(a.out, "w") as f:
        f.write("# Time to target: naive configuration vs Goodput defaults\n\n" if not a.before_jar else
                f"# Time to target: Goodput defaults, the current trainer vs an earlier one (`{a.before_jar}`)\n\n")
        f.write(f"- date: {datetime.date.today()}\n- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}\n")
        f.write(f"- command: `python3 bench/time_to_target.py --repeats {a.repeats} --seeds {a.seeds} --eval-every-samples {a.eval_every_samples}"
                + (f" --before-jar {a.before_jar}" if a.before_jar else "") + f"` (jar built at commit {commit})\n")
        f.write("- target: test accuracy 0.916 on the 10,000 test images\n\n")
        f.write("| run | seed | config | time to target (s) | final test accuracy | evaluations | load at start |\n"
                "|---|---|---|---|---|---|---|\n")
        for i, (n, s, x, e, l, sd) in enumerate(rows):
            f.write(f"| {i // 2} | {sd} | {n} | {s if s is not None else 'not reached'} | {x:.4f} | {e} | {l} |\n")
        f.write(f"\nMedian time to target: {base} {med[base]:.0f} s, Goodput {med['goodput']:.0f} s: "
                f"**{med[base] / med['goodput']:.2f}x** faster; accuracy {base} {acc[base]:.4f}, Goodput {acc['goodput']:.4f}.\n")
        if len(seeds) > 1:
            f.write("\nBy seed: " + ", ".join(f"{sd}: {r:.2f}x" for sd, r in ratios.items())
                    + (f"; median of the seeds' ratios **{statistics.median(ratios.values()):.2f}x**.\n" if ratios else ".\n"))
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
