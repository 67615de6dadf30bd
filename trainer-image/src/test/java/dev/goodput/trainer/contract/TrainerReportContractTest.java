package dev.goodput.trainer.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.TrainerPhase;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer's side of the contract with the operator, from a real trainer process: every field of
 * {@link TrainerReport} the operator reads ({@code observe/}, {@code status/}, {@code cost/AttemptRecords}) is present
 * on /progress while it trains and in the termination message when it ends, and plausible against the wall clock.
 * The operator's badput accounting (docs/cost.md) is only as good as these durations.
 */
class TrainerReportContractTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** The phases a trainer of this version reports: every one but the reading side's fallback. */
    static final Set<TrainerPhase> TRAINER_PHASES = java.util.EnumSet.complementOf(java.util.EnumSet.of(TrainerPhase.Unknown));

    @Test
    void everyFieldTheOperatorReadsIsThereAndPlausible(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("job.yaml");
        // batchSize auto under a memory budget: the trainer tunes, so the tuning share must show.
        Files.writeString(manifest, TestJobs.yaml("cnn", 3200, "maxSteps: 150\nbatchSize: auto\nmemoryBudget: 2Gi"));
        Path term = dir.resolve("term.json");
        long started = System.nanoTime();
        TrainerReport live;
        int code;
        try (TrainerProcess p = TrainerProcess.start(Map.of("GOODPUT_ATTEMPT", "3"), manifest, dir.resolve("ckpt"), term,
                "--metrics-port", "0", "--set", "spec.checkpoint.interval=1s")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.metricsPort() > 0);
            live = await().atMost(Duration.ofSeconds(120)).until(p::progress,
                    r -> r != null && r.phase == TrainerPhase.Running && r.progress != null && r.progress.step > 0);
            code = p.waitFor(300);
        }
        double wall = (System.nanoTime() - started) / 1e9;

        assertThat(live.attempt).isEqualTo(3);
        assertThat(live.startupSeconds).as("process start to the first step").isPositive().isLessThan(wall);
        assertThat(live.tuningSeconds).as("a job that tuned").isPositive().isLessThan(wall);
        assertThat(live.tunedBatch.source).isEqualTo("tuned");
        assertThat(live.tunedBatch.micro).isPositive();
        assertThat(live.progress.samplesPerSecond).isPositive();
        assertThat(live.resumedFromStep).isNull();

        assertThat(code).isEqualTo(ExitCodes.FINISHED);
        TrainerReport end = JSON.readValue(term.toFile(), TrainerReport.class);
        assertThat(TRAINER_PHASES).contains(live.phase, end.phase);
        assertThat(end.phase).isEqualTo(TrainerPhase.Succeeded);
        assertThat(end.exitCode).isEqualTo(ExitCodes.FINISHED);
        assertThat(end.attempt).isEqualTo(3);
        assertThat(end.progress.step).isEqualTo(150);
        assertThat(end.lastCheckpoint.step).isEqualTo(150);
        assertThat(end.lastCheckpoint.saveSeconds).isPositive();
        assertThat(end.lastCheckpoint.path).endsWith("step-150");
        // The weights' fingerprint is the SHA-256 of the parameters file the checkpoint holds.
        assertThat(end.lastCheckpoint.parametersSha256).isEqualTo(java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(
                        java.nio.file.Files.readAllBytes(java.nio.file.Path.of(end.lastCheckpoint.path, "parameters.bin")))));
        assertThat(end.startupSeconds).isEqualTo(live.startupSeconds);
        assertThat(end.tuningSeconds).isEqualTo(live.tuningSeconds);
        assertThat(end.checkpointSeconds).as("periodic snapshots and the final save").isPositive();
        assertThat(end.startupSeconds + end.tuningSeconds + end.checkpointSeconds).as("shares of the wall time")
                .isLessThan(wall);
        assertThat(end.trainingSeconds).isPositive().isLessThan(wall);
        assertThat(end.targetReached).isFalse();
        assertThat(end.message).isEqualTo("budget spent");
        assertThat(end.checkpointFailures).isNull();
    }

}
