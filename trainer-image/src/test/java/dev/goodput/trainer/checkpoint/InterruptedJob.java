package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The small real job the crash tests interrupt: an MLP with dropout on a slice of Fashion-MNIST, one thread, a
 * checkpoint every 100 ms (so saves are in flight much of the time) and {@value #KEEP} kept.
 */
final class InterruptedJob {
    static final int KEEP = 2;
    static final String[] CHECKPOINTING = {"--set", "spec.checkpoint.interval=100ms", "--set", "spec.checkpoint.keep=" + KEEP};

    final Path dir;
    final Path manifest;
    final int steps;

    private InterruptedJob(Path dir, Path manifest, int steps) {
        this.dir = dir;
        this.manifest = manifest;
        this.steps = steps;
    }

    static InterruptedJob write(Path dir, int steps) throws IOException {
        Path manifest = dir.resolve("job.yaml");
        Files.writeString(manifest, TestJobs.yaml("mlp", 6400, "maxSteps: " + steps)
                .replace("width: 8", "width: 32\n    dropout: 0.1"));
        return new InterruptedJob(dir, manifest, steps);
    }

    /** Starts the trainer on this job; {@code overrides} come after the checkpoint settings, so they win. */
    TrainerProcess start(Path checkpoints, Path terminationLog, List<String> jvmOptions, String... overrides) throws IOException {
        String[] args = java.util.stream.Stream.concat(java.util.Arrays.stream(CHECKPOINTING), java.util.Arrays.stream(overrides))
                .toArray(String[]::new);
        return TrainerProcess.start(jvmOptions, Map.of(), manifest, checkpoints, terminationLog, args);
    }

    static JobFolder folder(Path checkpoints) {
        return new JobFolder(checkpoints.resolve("test-job"));
    }

    /** Trains the job once without interruption; returns the hash of its final parameters and optimizer state. */
    String referenceHash() throws Exception {
        Path reference = dir.resolve("reference");
        try (TrainerProcess p = start(reference, dir.resolve("reference.json"), List.of())) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
        }
        return folder(reference).stateHash(steps);
    }

    /** Lines of a trainer's output that report a failed save. */
    static List<String> failedSaves(List<String> lines) {
        return lines.stream().filter(l -> l.contains("checkpoint at step") && l.contains("failed")).toList();
    }
}
