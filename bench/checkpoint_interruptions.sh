#!/usr/bin/env bash
# A real run interrupted N times at random instants (SIGTERM and SIGKILL), restarted each time with the same command,
# compared byte for byte with an uninterrupted run. The work is RandomInterruptionTest's, with more interruptions;
# this script records the result in bench/results/checkpoint-interruptions-<date>.md.
#   bench/checkpoint_interruptions.sh [--interruptions 100] [--sigkill-share 0.3] [--steps 30000] [--seed S]
set -euo pipefail
cd "$(dirname "$0")/.."
interruptions=100 share=0.3 steps=30000 seed=$RANDOM$RANDOM
while [ $# -gt 0 ]; do
  case "$1" in
    --interruptions) interruptions=$2; shift ;;
    --sigkill-share) share=$2; shift ;;
    --steps) steps=$2; shift ;;
    --seed) seed=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
stamp=$(date -u +%Y-%m-%d-%H%M)
out="bench/results/checkpoint-interruptions-$stamp.md"
json=$(mktemp)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- api trainer-image || echo '+uncommitted changes')
cmd=(mvn -B -q -pl trainer-image surefire:test -Dtest=RandomInterruptionTest -Dsurefire.failIfNoSpecifiedTests=false
     "-Dgoodput.interruptions=$interruptions" "-Dgoodput.interruptions.sigkillShare=$share"
     "-Dgoodput.interruptions.steps=$steps" "-Dgoodput.interruptions.seed=$seed" "-Dgoodput.interruptions.report=$json")
mvn -B -q -pl api,trainer-image -am install -DskipTests
start=$(date +%s)
status=passed
"${cmd[@]}" || status=failed
elapsed=$(( $(date +%s) - start ))
python3 - "$json" "$out" "$status" "$elapsed" "$load_before" "$(cut -d' ' -f1-3 /proc/loadavg)" "${cmd[*]}" "$commit" <<'PY'
import json, os, platform, subprocess, sys
src, out, status, elapsed, load_before, load_after, cmd, commit = sys.argv[1:]
r = json.load(open(src)) if os.path.getsize(src) else {}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
lines = [
    "# Checkpoints under random interruption",
    "",
    f"- date: {subprocess.run(['date', '-u', '+%Y-%m-%d %H:%M UTC'], capture_output=True, text=True).stdout.strip()}",
    f"- machine: {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}; load average before {load_before}, after {load_after}",
    f"- commit: {commit}",
    f"- command: `bench/checkpoint_interruptions.sh --interruptions {r.get('interruptions', '?')} --steps {r.get('steps', '?')} --seed {r.get('seed', '?')}`, which runs `{cmd}`",
    "- job: MLP (width 32, dropout 0.1) on 6,400 Fashion-MNIST examples, batch 64, AdamW, 1 thread; a checkpoint every 100 ms of training, `keep: 2`",
    "- each interruption: start the trainer with the same command, wait for its first line, wait a random 0–1.5 s (loading, resume, training, saves), send the signal, wait for the exit",
    "",
    f"**Result: {status}** in {elapsed} s.",
    "",
    "| what | value |",
    "|---|---|",
]
for key, label in [("interruptions", "interruptions"), ("sigterm", "SIGTERM (each must exit 75 with its step durable)"),
                   ("sigkill", "SIGKILL"), ("sigkillDuringSave", "SIGKILL that landed inside a save (a temporary folder was left)"),
                   ("byteIdentical", "final parameters and optimizer state byte-identical to the uninterrupted run"),
                   ("maxStepFolders", "most checkpoint folders on disk after any interruption (keep + 1 = 3 allowed)"),
                   ("finalStepFolders", "checkpoint folders at the end"), ("finalExitCode", "exit code of the final run"),
                   ("referenceSeconds", "uninterrupted run (s)"), ("interruptedSeconds", "all interrupted runs (s)")]:
    lines.append(f"| {label} | {r.get(key, '?')} |")
lines += ["", "No run printed a failed save (the test fails on the first `checkpoint at step … failed` line).", "",
          "## Every interruption", ""]
lines += [f"- {j}" for j in r.get("journal", [])]
open(out, "w").write("\n".join(lines) + "\n")
print(out)
PY
rm -f "$json"
[ "$status" = passed ]
