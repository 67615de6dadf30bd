#!/usr/bin/env python3
"""Checkpoint cost of the Goodput trainer, measured on real training runs.

1. Overhead at the default interval: the same job (CNN on Fashion-MNIST) runs for the same number of steps with
   periodic checkpoints every INTERVAL seconds and with none (interval 1h), alternating, REPEATS times. The slowdown per
   save is (t_ckpt - t_none) / saves; the share at the default 5-minute interval is that divided by 300 s.
2. SIGTERM-to-exit: the trainer is started, SIGTERM is sent once training is under way, and the time until the process
   has exited (the step in flight finished, the checkpoint written and fsynced) is measured, for the default CNN and a
   ResNet-20.

Usage: python3 bench/checkpoint_bench.py [--repeats 3] [--out bench/results/checkpoint.md]
Needs the trainer jar (make trainer) and Fashion-MNIST (make demo installs it).
"""
import argparse, datetime, os, platform, re, shutil, signal, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
JAR = os.path.join(ROOT, "trainer-image", "target", "goodput-trainer.jar")
JOB = os.path.join(ROOT, "examples", "fashion-mnist.yaml")
DEFAULT_INTERVAL_S = 300


def trainer(args, ckpt):
    return ["java", "-jar", JAR, "run", JOB, "--checkpoint-dir", ckpt, "--progress", "log",
            "--termination-log", os.path.join(ckpt, "term.json")] + args


def timed_run(steps, interval, model_args):
    ckpt = tempfile.mkdtemp(prefix="gp-bench-")
    try:
        args = ["--set", f"spec.training.maxSteps={steps}", "--set", "spec.target=null",
                "--set", "spec.training.epochs=100", "--set", f"spec.checkpoint.interval={interval}"] + model_args
        t0 = time.monotonic()
        out = subprocess.run(trainer(args, ckpt), capture_output=True, text=True, check=True).stdout
        wall = time.monotonic() - t0
        train = float(re.search(r"training seconds ([0-9.]+)", out).group(1)) if "training seconds" in out else None
        saves = [(float(m.group(1)), float(m.group(2))) for m in
                 re.finditer(r"checkpoint step \d+: ([0-9.]+) MB persisted in ([0-9]+) ms", out)]
        return wall, saves, out
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)


def sigterm_to_exit(model_args, wait_after_start=4.0):
    ckpt = tempfile.mkdtemp(prefix="gp-bench-")
    try:
        p = subprocess.Popen(trainer(["--set", "spec.training.maxSteps=100000", "--set", "spec.target=null",
                                      "--set", "spec.training.epochs=100"] + model_args, ckpt),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in p.stdout:
            if line.startswith("model "):
                break
        time.sleep(wait_after_start)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        rest = p.stdout.read()
        code = p.wait()
        dt = time.monotonic() - t0
        size = re.search(r"checkpoint step \d+: ([0-9.]+) MB", rest)
        return dt, code, float(size.group(1)) if size else None
    finally:
        shutil.rmtree(ckpt, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1200)
    ap.add_argument("--interval", default="10s")
    ap.add_argument("--out", default=os.path.join(ROOT, "bench", "results", "checkpoint.md"))
    a = ap.parse_args()
    if not os.path.exists(JAR):
        sys.exit("build the trainer first: make trainer")

    cnn = []
    none_walls, ckpt_walls, per_save = [], [], []
    for r in range(a.repeats):
        w_none, _, _ = timed_run(a.steps, "1h", cnn)
        w_ckpt, saves, _ = timed_run(a.steps, a.interval, cnn)
        none_walls.append(w_none)
        ckpt_walls.append(w_ckpt)
        if saves:
            per_save.append((w_ckpt - w_none) / len(saves))
        print(f"run {r}: no checkpoints {w_none:.1f}s, every {a.interval} {w_ckpt:.1f}s with {len(saves)} saves "
              f"({', '.join(f'{mb:.1f} MB/{ms:.0f} ms' for mb, ms in saves[:3])}...)", flush=True)
    slowdown = statistics.median(per_save) if per_save else float("nan")
    share = max(0.0, slowdown) / DEFAULT_INTERVAL_S

    results = {}
    for name, args in [("cnn (width 32)", cnn), ("resnet20", ["--set", "spec.model.architecture=resnet20",
                                                              "--set", "spec.model.width=16"])]:
        runs = [sigterm_to_exit(args) for _ in range(a.repeats)]
        for dt, code, _ in runs:
            assert code == 75, f"expected exit 75 after SIGTERM, got {code}"
        results[name] = (statistics.median(r[0] for r in runs), runs[0][2], [round(r[0], 3) for r in runs])
        print(f"SIGTERM to exit, {name}: median {results[name][0]:.3f}s of {results[name][2]}", flush=True)

    cpu = ""
    try:
        cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name"))
    except Exception:
        pass
    with open(a.out, "w") as f:
        f.write(f"# Checkpoint cost\n\n")
        f.write(f"- date: {datetime.date.today()}\n- machine: {os.cpu_count()} CPUs ({cpu}), {platform.system()} {platform.release()}\n")
        f.write(f"- command: `python3 bench/checkpoint_bench.py --repeats {a.repeats} --steps {a.steps} --interval {a.interval}`\n")
        f.write(f"- job: examples/fashion-mnist.yaml (CNN width 32, batch 128, AdamW), {a.steps} steps per run\n\n")
        f.write("## Overhead of periodic checkpoints\n\n| run | no checkpoints (s) | checkpoint every " + a.interval + " (s) |\n|---|---|---|\n")
        for i, (n, c) in enumerate(zip(none_walls, ckpt_walls)):
            f.write(f"| {i} | {n:.1f} | {c:.1f} |\n")
        f.write(f"\nMedian slowdown per save: **{slowdown * 1000:.0f} ms**. At the default interval of 5 minutes of training "
                f"that is **{share * 100:.3f} %** of training time (target: at most 2 %).\n\n")
        f.write("## SIGTERM to exit (step in flight finished, checkpoint durable, exit code 75)\n\n| model | checkpoint size | median | runs (s) |\n|---|---|---|---|\n")
        for name, (med, mb, runs) in results.items():
            f.write(f"| {name} | {mb} MB | {med:.3f} s | {runs} |\n")
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
