#!/usr/bin/env python3
"""Alternates `trainer bench` and pytorch_reference.py per (model, batch, threads), R repetitions, and writes the
medians and trainer/PyTorch ratios to bench/results/throughput-<date>.md. Started by run.sh (which installs the
Python side and builds the jar); standard library only, so it runs with any python3.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import shlex
import statistics
import subprocess
import sys
import time

HZ = os.sysconf("SC_CLK_TCK")
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MODELS = ["mlp", "cnn", "resnet20"]
BATCHES = [32, 128, 512]
THREADS = [1, 2]
QUICK = [("mlp", 128, 2), ("cnn", 128, 2), ("resnet20", 32, 2)]
# Samples timed per run, by model: about 1-6 s of steady-state work per run on a 2-core x86 machine.
SAMPLES = {"mlp": 160000, "cnn": 8000, "resnet20": 3200}


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
# PyTorch as a performance-minded user runs it: as it comes, with AdamW(fused=True) (the trainer itself runs libtorch's
# fused AdamW), with jemalloc preloaded as well, and with fused AdamW and the channels-last memory format (PyTorch's CPU
# performance guide for convolutional models; the trainer lays out its CNN's input so). The trainer is
# reported against the best of them per row.
PEERS = {
    "plain": ([], {}),
    "fused": (["--fused"], {}),
    "fused+jemalloc": (["--fused"], {"LD_PRELOAD": JEMALLOC}),
    "fused+channels-last": (["--fused", "--channels-last"], {}),
    "jemalloc": ([], {"LD_PRELOAD": JEMALLOC}),
}
DEFAULT_PEERS = "plain,fused,fused+jemalloc,fused+channels-last"


def steps_for(model, batch, scale):
    steps = max(10, min(2000, int(SAMPLES[model] * scale) // batch))
    return steps, max(5, steps // 5)


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def cpu_busy(seconds=2.0):
    """Share of all CPUs busy over `seconds` (nothing of ours runs meanwhile, so it is other people's work)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


def wait_quiet(max_load, max_busy, max_wait, log):
    """Waits until the 1-minute load is below max_load and the CPUs are idle enough; returns (load, busy, waited)."""
    start = time.time()
    while True:
        busy = cpu_busy()
        ld = load1()
        waited = time.time() - start
        if (ld < max_load and busy < max_busy) or waited >= max_wait:
            if waited >= max_wait:
                log(f"  still busy after {waited:.0f}s (load {ld:.2f}, cpu busy {busy:.0%}): measuring anyway")
            return ld, busy, waited
        time.sleep(10)


def busy_jiffies():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v) - v[3] - (v[4] if len(v) > 4 else 0)


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_json(cmd, env, timeout):
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    for line in reversed(p.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError(f"{' '.join(cmd)} exited {p.returncode} without a JSON line:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")


def git(*args):
    p = subprocess.run(["git", "-C", ROOT] + list(args), capture_output=True, text=True)
    return p.stdout.strip() if p.returncode == 0 else "?"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def image_jvm_options():
    """The JVM options of the CPU image's ENTRYPOINT (those between "java" and "-jar"): the trainer is measured as the
    image runs it."""
    with open(os.path.join(ROOT, "trainer-image", "Dockerfile.cpu")) as f:
        entry = next(line for line in f if line.startswith("ENTRYPOINT"))
    argv = json.loads(entry[len("ENTRYPOINT"):])
    return argv[1:argv.index("-jar")]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="only MLP b128, CNN b128, ResNet-20 b32 at 2 threads")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--batches", default=",".join(map(str, BATCHES)))
    ap.add_argument("--threads", default=",".join(map(str, THREADS)))
    ap.add_argument("--scale", type=float, default=1.0, help="multiplies the timed samples per run")
    ap.add_argument("--max-load", type=float, default=1.3, help="wait until the 1-minute load average is below this")
    ap.add_argument("--max-busy", type=float, default=0.15, help="... and other processes use less than this share of the CPUs")
    ap.add_argument("--max-wait", type=float, default=240, help="seconds to wait for a quiet machine before measuring anyway")
    ap.add_argument("--retries", type=int, default=6, help="repetitions re-measured (per row) when others used the CPUs during them")
    ap.add_argument("--jar", default=os.path.join(HERE, "target", "goodput-trainer.jar"))
    ap.add_argument("--java", default="java")
    ap.add_argument("--java-opts", default=" ".join(image_jvm_options()),
                    help="JVM options for the trainer (default: those of trainer-image/Dockerfile.cpu's ENTRYPOINT)")
    ap.add_argument("--python", default=os.path.join(ROOT, "bench", ".venv", "bin", "python"))
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="environment for both sides, e.g. OMP_WAIT_POLICY=PASSIVE")
    ap.add_argument("--out", default=None, help="results file (default bench/results/throughput-<date>.md)")
    ap.add_argument("--peer-jar", default=None, help="compare with another trainer jar (an earlier commit's) instead of PyTorch")
    ap.add_argument("--peers", default=DEFAULT_PEERS,
                    help=f"PyTorch variants, run alternating with the trainer; the trainer is rated against the best per row (of {', '.join(PEERS)})")
    ap.add_argument("--note", default="", help="a line to put under the title")
    a = ap.parse_args()

    now = datetime.datetime.now()
    out = a.out or os.path.join(ROOT, "bench", "results", f"throughput-{now:%Y-%m-%d-%H%M}.md")
    if a.quick:
        pairs = QUICK
    else:
        pairs = [(m, b, t) for m in a.models.split(",") for b in map(int, a.batches.split(","))
                 for t in map(int, a.threads.split(","))]
    env = dict(os.environ)
    for kv in a.env:
        k, v = kv.split("=", 1)
        env[k] = v
    peer_names = ["before"] if a.peer_jar else a.peers.split(",")
    for name in peer_names:
        if name != "before" and name not in PEERS:
            raise SystemExit(f"unknown peer {name}; one of {', '.join(PEERS)}")
    if any("LD_PRELOAD" in PEERS.get(n, ([], {}))[1] for n in peer_names) and not os.path.exists(JEMALLOC):
        raise SystemExit(f"{JEMALLOC} is missing: apt-get install libjemalloc2 (run.sh does)")

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    peaks = {}
    if not a.peer_jar:
        for t in sorted({t for _, _, t in pairs}):
            wait_quiet(a.max_load, a.max_busy, a.max_wait, log)
            peaks[t] = run_json([a.python, os.path.join(HERE, "pytorch_reference.py"), "--matmul-peak", "--threads", str(t)],
                                env, timeout=120)["gflops"]
            log(f"fp32 matmul peak at {t} threads: {peaks[t]:.1f} GFLOP/s")

    def write_report(done):
        java_version = subprocess.run([a.java, "-version"], capture_output=True, text=True).stderr.splitlines()[0]
        torch_version = rows[0]["reps"][0].get("torch_version", "?") if rows else "?"
        best_of = " or ".join(peer_names)
        lines = [f"# Throughput: trainer (DJL 0.36, libtorch 2.7.1 CPU) vs the best of PyTorch {torch_version} eager ({best_of})", ""] if not a.peer_jar else [
            f"# Throughput: trainer vs the trainer of an earlier commit (`{a.peer_jar}`)", ""]
        if a.note:
            lines += [a.note, ""]
        lines += [
            f"- date: {now:%Y-%m-%d %H:%M} (local), " + (f"finished {datetime.datetime.now():%H:%M}" if done else f"PARTIAL: {len(rows)} of {len(pairs)} rows so far ({datetime.datetime.now():%H:%M})"),
            f"- machine: {os.cpu_count()} CPUs (nproc), {cpu_model()}, kernel {platform.release()}",
            f"- java: {java_version}; python: {platform.python_version()} (harness)",
            f"- command: `bench/throughput/run.sh {os.environ.get('GOODPUT_BENCH_ARGS') or ' '.join(shlex.quote(x) for x in sys.argv[1:])}`",
            f"- trainer jar: built {datetime.datetime.fromtimestamp(os.path.getmtime(a.jar)):%Y-%m-%d %H:%M}; repository at "
            f"{git('rev-parse', '--short', 'HEAD')}" + (" with uncommitted changes under trainer-image/" if git('status', '--porcelain', 'trainer-image') else ""),
            f"- per run: `java -jar {os.path.relpath(a.jar, ROOT)} bench --model M --batch B --threads T --steps S --warmup W` and "
            + (f"`java -jar {a.peer_jar} bench` (the earlier trainer)" if a.peer_jar else
               "`bench/.venv/bin/python bench/throughput/pytorch_reference.py` as " + ", ".join(
                   f"{n} ({' '.join(PEERS[n][0]) or 'no flags'}" + (f", LD_PRELOAD={PEERS[n][1]['LD_PRELOAD']}" if PEERS[n][1] else "") + ")"
                   for n in peer_names))
            + " with the same flags; each repetition runs every side once, the order rotated from one repetition to the next; "
            f"{a.reps} repetitions; gate before each repetition: 1-min load < {a.max_load} and other CPU use < {a.max_busy:.0%} "
            f"(waiting up to {a.max_wait:.0f} s); a repetition during which other processes used more than that share of the CPUs "
            f"is discarded and measured again (up to {a.retries} times per row)" + (f"; env {' '.join(a.env)}" if a.env else "")
            + (f"; JVM options {a.java_opts}" if a.java_opts else ""),
            "- samples/s are medians over repetitions; the best peer of a row is the one with the highest median; "
            "ratio = median over repetitions of trainer ÷ that peer (same repetition)",
        ]
        if peaks:
            lines.append("- physical limit: fp32 matmul peak of this machine, `pytorch_reference.py --matmul-peak` (best of "
                         "2048x2048 `torch.mm` over 3 s): " + ", ".join(f"{v:.1f} GFLOP/s at {t} thread{'s' if t > 1 else ''}"
                                                                      for t, v in sorted(peaks.items()))
                         + "; a step's FLOPs are PyTorch's `FlopCounterMode` count of one forward and backward (matmuls and"
                         " convolutions), the same model on both sides")
        head = " | ".join(f"{n} samples/s" for n in peer_names)
        lines += ["",
                  f"| model | batch | threads | steps (warmup) | trainer samples/s | {head} | best peer | ratio trainer÷best | per-rep ratios |"
                  + (" trainer GFLOP/s (share of matmul peak) |" if peaks else "") + " load1 before (max) |",
                  "|---|---:|---:|---:|---:|" + "---:|" * len(peer_names) + "---|---:|---|" + ("---:|" if peaks else "") + "---:|"]
        for row in rows:
            per = ", ".join(f"{x['ratio']:.2f}" for x in row["reps"])
            cells = " | ".join(f"{row['peers'][n]:,.0f}" for n in peer_names)
            flop = ""
            if peaks:
                fps = row["reps"][0].get("flops_per_sample")
                flop = f" {row['trainer'] * fps / 1e9:.1f} ({row['trainer'] * fps / 1e9 / peaks[row['threads']]:.0%}) |" if fps else " - |"
            lines.append(f"| {row['model']} | {row['batch']} | {row['threads']} | {row['steps']} ({row['warmup']}) | "
                         f"{row['trainer']:,.0f} | {cells} | {row['best']} | **{row['ratio']:.3f}** | {per} |{flop} "
                         f"{max(x['load1'] for x in row['reps']):.2f}"
                         f"{'' if all(x['quiet'] for x in row['reps']) else ' (busy: measured after --max-wait)'} |")
        lines += ["", "<details><summary>every repetition</summary>", "",
                  f"| model | batch | threads | rep | order | trainer/s | " + " | ".join(f"{n}/s" for n in peer_names)
                  + " | ratio to best | load1 before | load1 after | others' CPU before | others' CPU during | waited s |",
                  "|---|---:|---:|---:|---|---:|" + "---:|" * len(peer_names) + "---:|---:|---:|---:|---:|---:|"]
        for row in rows:
            for i, x in enumerate(row["reps"]):
                lines.append(f"| {row['model']} | {row['batch']} | {row['threads']} | {i + 1} | {x['order']} | {x['trainer']:,.0f} | "
                             + " | ".join(f"{x['peers'][n]:,.0f}" for n in peer_names)
                             + f" | {x['ratio']:.3f} | {x['load1']:.2f} | {x['load1_after']:.2f} | "
                             f"{x['busy']:.0%} | {x['others']:.0%} | {x['waited']:.0f} |")
        lines += ["", "</details>", ""]
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "w") as f:
            f.write("\n".join(lines))
        if done:
            print("\n".join(lines))

    rows = []
    for model, batch, threads in pairs:
        steps, warmup = steps_for(model, batch, a.scale)
        common = ["--model", model, "--batch", str(batch), "--threads", str(threads), "--steps", str(steps),
                  "--warmup", str(warmup)]
        sides = [("trainer", [a.java] + shlex.split(a.java_opts) + ["-jar", a.jar, "bench"] + common, env)]
        for n in peer_names:
            if n == "before":
                sides.append((n, [a.java] + shlex.split(a.java_opts) + ["-jar", a.peer_jar, "bench"] + common, env))
            else:
                flags, extra = PEERS[n]
                sides.append((n, [a.python, os.path.join(HERE, "pytorch_reference.py")] + common + flags, {**env, **extra}))
        reps = []
        retries = 0
        while len(reps) < a.reps:
            r = len(reps)
            ld, busy, waited = wait_quiet(a.max_load, a.max_busy, a.max_wait, log)
            # Rotate the order, so no side always runs first (on the warmer, or busier, machine).
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            res = {}
            for name, cmd, side_env in order:
                # Other processes' CPU use while this run lasted: all busy CPU time less this run's own.
                j0, c0, t0 = busy_jiffies(), children_cpu(), time.time()
                res[name] = run_json(cmd, side_env, timeout=900)
                wall = time.time() - t0
                others = ((busy_jiffies() - j0) / HZ - (children_cpu() - c0)) / (wall * os.cpu_count())
                res[name]["others"] = max(0.0, others)
            disturbed = max(v["others"] for v in res.values())
            if disturbed > a.max_busy and retries < a.retries:
                retries += 1
                log(f"{model} b{batch} t{threads} rep {r + 1}: other processes used {disturbed:.0%} of the CPUs "
                    f"during the repetition: discarded, measuring again ({retries}/{a.retries})")
                continue
            rep = {"load1": ld, "busy": busy, "waited": waited, "quiet": ld < a.max_load and busy < a.max_busy and disturbed <= a.max_busy,
                   "others": disturbed, "load1_after": load1(), "order": " → ".join(n for n, _, _ in order),
                   "trainer": res["trainer"]["samples_per_second"],
                   "peers": {n: res[n]["samples_per_second"] for n in peer_names},
                   "torch_version": next((res[n].get("torch") for n in peer_names if res[n].get("torch")), None),
                   "flops_per_sample": next((res[n].get("flops_per_sample") for n in peer_names if res[n].get("flops_per_sample")), None)}
            reps.append(rep)
            log(f"{model} b{batch} t{threads} rep {r + 1}: trainer {rep['trainer']:.0f}/s, "
                + ", ".join(f"{n} {v:.0f}/s" for n, v in rep["peers"].items()) + f" (load {ld:.2f}, busy {busy:.0%})")
        medians = {n: statistics.median(x["peers"][n] for x in reps) for n in peer_names}
        best = max(medians, key=medians.get)
        for x in reps:
            x["ratio"] = x["trainer"] / x["peers"][best]
        rows.append({"model": model, "batch": batch, "threads": threads, "steps": steps, "warmup": warmup, "reps": reps,
                     "trainer": statistics.median(x["trainer"] for x in reps), "peers": medians, "best": best,
                     "ratio": statistics.median(x["ratio"] for x in reps)})
        write_report(len(rows) == len(pairs))

    log(f"wrote {out}")


if __name__ == "__main__":
    main()
