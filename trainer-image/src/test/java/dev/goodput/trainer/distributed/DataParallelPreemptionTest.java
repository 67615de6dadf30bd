package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TrainerProcess;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Preemption of a run of several real trainer processes: a SIGTERM to any one stops them all at the same step with one
 * checkpoint, and the run resumes exactly, with as many processes or another number; a process that dies makes the
 * others end non-zero instead of waiting for it forever.
 */
class DataParallelPreemptionTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int STEPS = 600;

    @Test
    void sigtermToOneProcessStopsAllAtOneStepAndTheRunResumesExactlyWithTwoOrWithOne(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), DataParallelTrainingTest.job(STEPS));
        String uninterruptedTwo = hash(finish(2, manifest, dir.resolve("reference-two"), dir.resolve("logs-ref2")));
        Map<String, float[]> uninterruptedOne = MultiProcessTraining.latestParameters(
                finish(1, manifest, dir.resolve("reference-one"), dir.resolve("logs-ref1")));

        Path checkpoints = dir.resolve("preempted");
        Path logs = Files.createDirectories(dir.resolve("logs-preempted"));
        long step;
        try (MultiProcessTraining run = MultiProcessTraining.start(2, Map.of(), manifest, checkpoints, logs, "--metrics-port", "0")) {
            TrainerProcess rank1 = run.rank(1);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> rank1.metricsPort() > 0 && rank1.progress() != null && rank1.progress().progress.step >= 100);
            rank1.sigterm(); // the other process gets no signal: it must stop with its peer
            assertThat(run.waitFor(60)).as(run.output()).containsExactly(ExitCodes.PREEMPTED, ExitCodes.PREEMPTED);
            TrainerReport leader = JSON.readValue(logs.resolve("term-0.json").toFile(), TrainerReport.class);
            TrainerReport peer = JSON.readValue(logs.resolve("term-1.json").toFile(), TrainerReport.class);
            step = leader.progress.step;
            assertThat(step).as(run.output()).isGreaterThanOrEqualTo(100).isLessThan(STEPS);
            assertThat(peer.progress.step).as("both stopped after the same step").isEqualTo(step);
            assertThat(List.of(leader.phase, peer.phase)).containsOnly(TrainerPhase.Preempted);
            assertThat(leader.lastCheckpoint.step).isEqualTo(step);
            assertThat(run.rank(0).printed("a peer's SIGTERM: saving step " + step)).as(run.output()).isTrue();
        }
        try (var folders = Files.list(checkpoints.resolve("test-job"))) {
            assertThat(folders.filter(p -> p.getFileName().toString().startsWith("step-")).map(p -> p.getFileName().toString()))
                    .as("one checkpoint, written by rank 0").containsExactly("step-" + step);
        }
        Path withOne = dir.resolve("preempted-copy");
        copy(checkpoints, withOne);

        // Resumed with two processes: byte-identical to the uninterrupted two-process run.
        assertThat(hash(finish(2, manifest, checkpoints, dir.resolve("logs-resumed2")))).isEqualTo(uninterruptedTwo);

        // Resumed with one process: it continues at the example the two stopped at (the checkpoint's position is the
        // global one), so it ends where one process alone ends, up to the rounding of a different reduction order.
        try (MultiProcessTraining run = MultiProcessTraining.start(1, Map.of(), manifest, withOne, Files.createDirectories(dir.resolve("logs-resumed1")))) {
            assertThat(run.waitFor(300)).as(run.output()).containsExactly(ExitCodes.FINISHED);
            assertThat(run.rank(0).printed("(step " + step + ", epoch")).as(run.output()).isTrue();
        }
        double d = MultiProcessTraining.largestRelativeDifference(MultiProcessTraining.latestParameters(withOne.resolve("test-job")),
                uninterruptedOne);
        System.out.printf("2 processes preempted at step %d, resumed with 1: largest ||p - p1|| / ||p1|| %.2e%n", step, d);
        assertThat(d).isLessThan(1e-5);
    }

    @Test
    void aKilledProcessMakesTheOthersExitNonZeroWithinTheTimeout(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), DataParallelTrainingTest.job(1_000_000));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        try (MultiProcessTraining run = MultiProcessTraining.start(2, Map.of(World.TIMEOUT_ENV, "20"), manifest,
                dir.resolve("ckpt"), logs, "--metrics-port", "0")) {
            TrainerProcess rank0 = run.rank(0);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(50))
                    .until(() -> rank0.metricsPort() > 0 && rank0.progress() != null && rank0.progress().progress.step >= 20);
            run.rank(1).sigkill();
            long t0 = System.nanoTime();
            int code = rank0.waitFor(40);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("rank 1 killed: rank 0 exited %d after %.1f s%n", code, seconds);
            assertThat(code).as(run.output()).isEqualTo(ExitCodes.FAILED);
            assertThat(seconds).isLessThan(25);
            assertThat(String.join("\n", rank0.lines())).contains("c10d");
        }
    }

    @Test
    void sigtermToRankZeroAloneStopsBothAtOneStep(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), DataParallelTrainingTest.job(1_000_000));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        try (MultiProcessTraining run = MultiProcessTraining.start(2, Map.of(), manifest, dir.resolve("ckpt"), logs,
                "--metrics-port", "0")) {
            TrainerProcess rank0 = run.rank(0);
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> rank0.metricsPort() > 0 && rank0.progress() != null && rank0.progress().progress.step >= 50);
            rank0.sigterm();
            assertThat(run.waitFor(60)).as(run.output()).containsExactly(ExitCodes.PREEMPTED, ExitCodes.PREEMPTED);
            TrainerReport leader = JSON.readValue(logs.resolve("term-0.json").toFile(), TrainerReport.class);
            TrainerReport peer = JSON.readValue(logs.resolve("term-1.json").toFile(), TrainerReport.class);
            assertThat(peer.progress.step).isEqualTo(leader.progress.step).isEqualTo(leader.lastCheckpoint.step);
            assertThat(run.rank(1).printed("a peer's SIGTERM")).as(run.output()).isTrue();
        }
    }

    @Test
    void aStalledProcessMakesTheOthersExitNonZeroAtTheCollectiveTimeout(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), DataParallelTrainingTest.job(1_000_000));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        int port = MultiProcessTraining.freePort();
        Map<String, String> env = Map.of("WORLD_SIZE", "2", "LOCAL_WORLD_SIZE", "2", "MASTER_ADDR", "127.0.0.1",
                "MASTER_PORT", String.valueOf(port), World.TIMEOUT_ENV, "5");
        // Rank 1's training thread stops for good before step 30 (the test-only stall hook), as a hung device would;
        // its process stays alive and connected, so only the timeout can end rank 0's wait.
        try (TrainerProcess rank1 = TrainerProcess.start(List.of("-Dgoodput.faultInjection.stallAtStep=30"),
                     with(env, "RANK", "1", "LOCAL_RANK", "1"), manifest, dir.resolve("ckpt"), logs.resolve("term-1.json"));
             TrainerProcess rank0 = TrainerProcess.start(with(env, "RANK", "0", "LOCAL_RANK", "0"), manifest,
                     dir.resolve("ckpt"), logs.resolve("term-0.json"))) {
            await().atMost(Duration.ofSeconds(120)).until(() -> rank1.printed("the training thread stalls at step 30"));
            long t0 = System.nanoTime();
            int code = rank0.waitFor(60);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("rank 1 stalled: rank 0 exited %d after %.1f s (timeout 5 s)%n", code, seconds);
            assertThat(code).as(String.join("\n", rank0.lines())).isEqualTo(ExitCodes.FAILED);
            assertThat(seconds).isLessThan(20);
            assertThat(String.join("\n", rank0.lines())).contains("c10d");
        }
    }

    private static Map<String, String> with(Map<String, String> env, String... more) {
        Map<String, String> out = new java.util.HashMap<>(env);
        for (int i = 0; i < more.length; i += 2) out.put(more[i], more[i + 1]);
        return out;
    }

    private static Path finish(int world, Path manifest, Path checkpoints, Path logs) throws Exception {
        try (MultiProcessTraining run = MultiProcessTraining.start(world, Map.of(), manifest, checkpoints, Files.createDirectories(logs))) {
            assertThat(run.waitFor(300)).as(run.output()).containsOnly(ExitCodes.FINISHED);
        }
        return checkpoints.resolve("test-job");
    }

    private static String hash(Path jobDir) throws Exception {
        return CheckpointStore.parametersSha256(new CheckpointStore(jobDir, 3).loadLatest().orElseThrow().path());
    }

    private static void copy(Path from, Path to) throws Exception {
        try (var walk = Files.walk(from)) {
            for (Path p : (Iterable<Path>) walk::iterator) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target);
            }
        }
    }
}
