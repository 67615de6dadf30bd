package dev.goodput.trainer.config;

import dev.goodput.api.TrainingJobManifest;
import dev.goodput.trainer.distributed.World;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Where and how this process runs, beside the manifest: the operator sets these through the environment, a local
 * user through flags.
 *
 * @param checkpointRoot   folder holding {@code <jobId>/step-<n>/}
 * @param jobId            checkpoint namespace: the job's UID on a cluster, its name locally
 * @param attempt          which attempt of the job this process is (0 for the first)
 * @param metricsPort      port of /metrics, /progress, /healthz; 0 picks a free one, negative disables
 * @param terminationLog   where the JSON exit summary goes, or null
 * @param progressBar      redraw one console line (a terminal) instead of printing log lines
 * @param reportDir        where the run report goes; null = beside the checkpoints
 * @param handleSignals    turn SIGTERM/SIGINT into checkpoint-and-exit (off when a test runs the trainer in-process)
 * @param gracePeriod      time from SIGTERM to SIGKILL: the pod's terminationGracePeriodSeconds, which the operator
 *                         passes as GOODPUT_GRACE_PERIOD_SECONDS; null = spec.checkpoint.gracePeriodSeconds, else 30 s
 * @param world            this process's rank among the processes training the model together (one, by default)
 */
public record RunSettings(TrainingJobManifest manifest, Path manifestPath, Path checkpointRoot, String jobId,
                          int attempt, int metricsPort, Path terminationLog, boolean progressBar, Path reportDir,
                          boolean handleSignals, Duration gracePeriod, World world) {

    public Path jobCheckpoints() {
        return checkpointRoot.resolve(jobId);
    }
}
