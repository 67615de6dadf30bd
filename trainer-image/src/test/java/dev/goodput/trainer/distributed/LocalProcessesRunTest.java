package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TrainerProcess;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code trainer run --processes 2}: the trainer starts its own processes, as a pod with two GPUs does, and they train
 * as two ranks would; a SIGTERM to it (the only process a kubelet signals) stops them all with one checkpoint.
 */
class LocalProcessesRunTest {
    static final int STEPS = 600;

    @Test
    void theTrainersOwnProcessesTrainAsRanksAndStopTogetherOnItsSigterm(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), DataParallelTrainingTest.job(STEPS));
        Path logs = Files.createDirectories(dir.resolve("logs"));
        try (MultiProcessTraining run = MultiProcessTraining.start(2, Map.of(), manifest, dir.resolve("ranks"), logs)) {
            assertThat(run.waitFor(300)).as(run.output()).containsOnly(ExitCodes.FINISHED);
        }
        String ranks = hash(dir.resolve("ranks/test-job"));

        // Its own temporary folder, inherited by the processes it starts: each unpacks the c10d binding there
        Path tmp = Files.createDirectories(dir.resolve("tmp"));
        try (TrainerProcess p = TrainerProcess.start(List.of("-Djava.io.tmpdir=" + tmp), Map.of(), manifest,
                dir.resolve("launched"), logs.resolve("launched.json"), "--processes", "2")) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("goodput: 2 processes")).isTrue();
            assertThat(p.printed("data parallel: rank 1 of 2")).as(String.join("\n", p.lines())).isTrue();
        }
        assertThat(hash(dir.resolve("launched/test-job"))).isEqualTo(ranks);
        try (Stream<Path> left = Files.list(tmp)) {
            assertThat(left.map(f -> f.getFileName().toString())).as("what the processes left in their temporary folder")
                    .noneMatch(f -> f.startsWith("goodput-c10d"));
        }

        Path preempted = dir.resolve("preempted");
        try (TrainerProcess p = TrainerProcess.start(manifest, preempted, logs.resolve("first.json"), "--processes", "2",
                "--metrics-port", "0")) {
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> p.metricsPort() > 0 && p.progress() != null && p.progress().progress.step >= 100);
            p.sigterm();
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.PREEMPTED);
            assertThat(p.printed("goodput: local processes exited [75, 75]; exit 75")).as(String.join("\n", p.lines())).isTrue();
        }
        try (TrainerProcess p = TrainerProcess.start(manifest, preempted, logs.resolve("second.json"), "--processes", "2")) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
        }
        assertThat(hash(preempted.resolve("test-job"))).isEqualTo(ranks);
    }

    private static String hash(Path jobDir) throws Exception {
        return CheckpointStore.parametersSha256(new CheckpointStore(jobDir, 3).loadLatest().orElseThrow().path());
    }
}
