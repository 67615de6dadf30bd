package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.TrainerPhase;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TrainerProcess;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checkpoints on a real filesystem that fills up: a 4 MiB tmpfs, filled by a ballast file while the trainer runs. A
 * save that hits ENOSPC removes its partial files and leaves the previous checkpoint loadable; SIGTERM whose save
 * fails, a final save that fails, and three failed periodic saves in a row each exit 74 with a message that says the
 * disk is full; once space is freed the job resumes and finishes. Needs root for the mount (skipped otherwise).
 */
class DiskFullTest {
    static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    Path mount;

    @BeforeEach
    void mountSmallTmpfs() throws Exception {
        mount = Files.createDirectories(dir.resolve("small-disk"));
        Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "goodput-disk-full-test", mount.toString())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        boolean mounted = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "cannot mount a 4 MiB tmpfs here (needs root with CAP_SYS_ADMIN): " + out.trim());
    }

    @AfterEach
    void unmount() throws Exception {
        if (mount != null) new ProcessBuilder("umount", "-l", mount.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
    }

    @Test
    void aFullDiskFailsLoudlyAndLosesNothing() throws Exception {
        InterruptedJob job = InterruptedJob.write(dir, 2000);
        Path checkpoints = mount.resolve("ckpt");
        JobFolder folder = InterruptedJob.folder(checkpoints);

        // 1. Train until a checkpoint exists, fill the disk, then SIGTERM: the save fails, so the exit is 74, not 75.
        long durable;
        Path term1 = dir.resolve("term1.json");
        try (TrainerProcess p = job.start(checkpoints, term1, List.of())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.printed("checkpoint step "));
            p.sigterm(); // a clean stop: a checkpoint on disk and no leftovers whose removal would free space
            assertThat(p.waitFor(60)).isEqualTo(ExitCodes.PREEMPTED);
        }
        durable = folder.newestValidStep();
        assertThat(durable).isPositive();
        Path ballast = fill(mount);
        try (TrainerProcess p = job.start(checkpoints, term1, List.of())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.printed("resumed from"));
            await().atMost(Duration.ofSeconds(30)).failFast(() -> !p.alive()).until(() -> p.printed("failed: disk full"));
            p.sigterm();
            int code = p.waitFor(60);
            String log = String.join("\n", p.lines());
            assertThat(code).as(log).isEqualTo(ExitCodes.CHECKPOINT_FAILED);
            TrainerReport r = JSON.readValue(term1.toFile(), TrainerReport.class);
            assertThat(r.phase).isEqualTo(TrainerPhase.Failed);
            assertThat(r.message).contains("preempted (SIGTERM), but checkpoint at step").contains("disk full")
                    .contains("No space left on device").contains("previous checkpoint (step " + durable + ")");
        }
        assertLoadableAndClean(folder, durable);

        // 2. The budget is spent while the disk is full: the final save fails, which is a failure, not exit 0.
        Path term2 = dir.resolve("term2.json");
        try (TrainerProcess p = job.start(checkpoints, term2, List.of(), "--set", "spec.checkpoint.interval=10m",
                "--set", "spec.training.maxSteps=" + (durable + 20))) {
            int code = p.waitFor(120);
            String log = String.join("\n", p.lines());
            assertThat(code).as(log).isEqualTo(ExitCodes.CHECKPOINT_FAILED);
            TrainerReport r = JSON.readValue(term2.toFile(), TrainerReport.class);
            assertThat(r.phase).isEqualTo(TrainerPhase.Failed);
            assertThat(r.message).startsWith("budget spent, but checkpoint at step " + (durable + 20) + " failed: disk full");
        }
        assertLoadableAndClean(folder, durable);

        // 3. Periodic saves keep failing: each is reported on /progress, the third in a row stops the attempt.
        Path term3 = dir.resolve("term3.json");
        try (TrainerProcess p = job.start(checkpoints, term3, List.of(), "--set", "spec.checkpoint.interval=1s",
                "--set", "spec.training.maxSteps=1000000", "--metrics-port", "0")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.metricsPort() > 0);
            TrainerReport live = await().atMost(Duration.ofSeconds(30)).until(p::progress,
                    r -> r != null && r.checkpointFailures != null);
            assertThat(live.checkpointError).contains("disk full");
            String metrics = p.get("/metrics");
            assertThat(metrics).containsPattern("goodput_trainer_checkpoint_failures_total [1-9]");
            int code = p.waitFor(120);
            String log = String.join("\n", p.lines());
            assertThat(code).as(log).isEqualTo(ExitCodes.CHECKPOINT_FAILED);
            TrainerReport r = JSON.readValue(term3.toFile(), TrainerReport.class);
            assertThat(r.message).startsWith("stopped: 3 checkpoint saves in a row failed").contains("disk full");
            assertThat(r.checkpointFailures).isEqualTo(3);
        }
        assertLoadableAndClean(folder, durable);

        // 4. Space is freed: the same command resumes from the checkpoint that survived and finishes.
        Files.delete(ballast);
        try (TrainerProcess p = job.start(checkpoints, dir.resolve("term4.json"), List.of())) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("resumed from " + folder.dir().resolve("step-" + durable))).isTrue();
        }
        assertThat(folder.newestValidStep()).isEqualTo(2000);
    }

    private static void assertLoadableAndClean(JobFolder folder, long durable) throws IOException {
        assertThat(folder.newestValidStep()).isEqualTo(durable);
        assertThat(folder.leftovers()).as("partial files of failed saves").isEmpty();
    }

    /** Fills the filesystem to the last byte. */
    private static Path fill(Path mount) throws IOException {
        Path ballast = mount.resolve("ballast");
        byte[] block = new byte[4096];
        try (OutputStream out = Files.newOutputStream(ballast)) {
            while (true) out.write(block);
        } catch (IOException e) {
            assertThat(e.getMessage()).contains("No space left on device");
        }
        return ballast;
    }

}
