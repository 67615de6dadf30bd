package dev.goodput.trainer.preemption;

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
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The core promise: a run preempted any number of times, by SIGTERM and by SIGKILL, ends with parameters bit-identical
 * to a run that never was. Real child processes, real signals, real training on Fashion-MNIST.
 */
class PreemptionResumeTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final int STEPS = 400;

    @Test
    void preemptedRunEndsBitIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("job.yaml");
        // Dropout on, so the test also covers the randomness a resumed run must replay.
        Files.writeString(manifest, TestJobs.yaml("cnn", 6400, "maxSteps: " + STEPS).replace("width: 8", "width: 8\n    dropout: 0.2"));
        String[] periodic = {"--set", "spec.checkpoint.interval=1s"};

        Path reference = dir.resolve("reference");
        long trainingMillis;
        try (TrainerProcess p = TrainerProcess.start(manifest, reference, dir.resolve("ref-term.json"), periodic)) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.printed("model cnn:"));
            long start = System.nanoTime();
            assertThat(p.waitFor(180)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            trainingMillis = (System.nanoTime() - start) / 1_000_000;
        }
        String expected = finalParametersHash(reference);

        Path resumed = dir.resolve("resumed");
        Random random = new Random(20261126);
        List<String> interruptions = new ArrayList<>();
        for (int attempt = 0; attempt < 5; attempt++) {
            boolean kill = attempt == 2;
            Path term = dir.resolve("term-" + attempt + ".json");
            try (TrainerProcess p = TrainerProcess.start(manifest, resumed, term, periodic)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> p.printed("model cnn:"));
                // Signal after 4-14 % of the uninterrupted run's training time, whatever the machine's speed: at most
                // 56 % of the run is done after four interruptions, so all of them land before it finishes.
                Thread.sleep(trainingMillis * (4 + random.nextInt(11)) / 100);
                long before = latestStep(resumed);
                if (kill) {
                    p.sigkill();
                    assertThat(p.waitFor(30)).isEqualTo(137);
                    interruptions.add("SIGKILL after checkpoint " + before);
                    continue;
                }
                long signalledAt = System.nanoTime();
                p.sigterm();
                int code = p.waitFor(30);
                double exitSeconds = (System.nanoTime() - signalledAt) / 1e9;
                if (code == ExitCodes.FINISHED) break; // finished before the signal landed
                assertThat(code).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.PREEMPTED);
                TrainerReport r = JSON.readValue(term.toFile(), TrainerReport.class);
                assertThat(r.phase).isEqualTo(TrainerPhase.Preempted);
                assertThat(r.exitCode).isEqualTo(ExitCodes.PREEMPTED);
                // At most the step in flight is lost: it is finished and saved before exit.
                assertThat(r.lastCheckpoint.step).isEqualTo(r.progress.step);
                assertThat(latestStep(resumed)).isEqualTo(r.progress.step);
                assertThat(exitSeconds).isLessThan(10);
                interruptions.add("SIGTERM at step " + r.progress.step + ", exit in " + Math.round(exitSeconds * 1000) + " ms");
            }
        }
        try (TrainerProcess p = TrainerProcess.start(manifest, resumed, dir.resolve("final.json"), periodic)) {
            assertThat(p.waitFor(180)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("resumed from")).isTrue();
        }
        assertThat(interruptions).as("interruptions").hasSizeGreaterThanOrEqualTo(4);
        System.out.println("interruptions: " + interruptions);
        assertThat(finalParametersHash(resumed)).as("after " + interruptions).isEqualTo(expected);
    }

    @Test
    void theTrainerPlansItsSaveWithinThePodsGracePeriodNotTheManifestDefault(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("job.yaml");
        Files.writeString(manifest, TestJobs.yaml("mlp", 640, "maxSteps: 100000"));
        // The operator derives terminationGracePeriodSeconds from how long saves take and passes the same number.
        try (TrainerProcess p = TrainerProcess.start(java.util.Map.of("GOODPUT_GRACE_PERIOD_SECONDS", "77"), manifest,
                dir.resolve("ckpt"), dir.resolve("term.json"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> p.printed("model mlp:"));
            p.sigterm();
            assertThat(p.waitFor(60)).isEqualTo(ExitCodes.PREEMPTED);
            assertThat(p.printed("SIGTERM received; checkpointing before exit (grace 77s)")).as(String.join("\n", p.lines())).isTrue();
        }
    }

    @Test
    void badManifestIsRefusedBeforeAnyCheckpointIsTouched(@TempDir Path dir) throws Exception {
        Path ckpt = dir.resolve("ckpt");
        Path job = ckpt.resolve("test-job");
        Files.createDirectories(job.resolve("step-5"));
        Files.writeString(job.resolve("latest"), "step-5\n");
        Path manifest = dir.resolve("bad.yaml");
        Files.writeString(manifest, TestJobs.yaml("cnn", 640, "maxSteps: 5").replace(TestJobs.FASHION_MNIST.toString(), "/no/such/data"));
        Path term = dir.resolve("term.json");
        try (TrainerProcess p = TrainerProcess.start(manifest, ckpt, term)) {
            assertThat(p.waitFor(60)).isEqualTo(ExitCodes.CONFIG_ERROR);
            assertThat(p.printed("spec.data.path: /no/such/data does not exist")).isTrue();
        }
        assertThat(JSON.readValue(term.toFile(), TrainerReport.class).exitCode).isEqualTo(ExitCodes.CONFIG_ERROR);
        try (var files = Files.list(job)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("step-5", "latest");
        }
    }

    /**
     * Manifests that parse but cannot run as meant, refused by pre-flight (exit 78, no retry) before tuning or any
     * checkpoint, with a message that names the field and says what to change.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "csv data pointed at an IDX folder | format: csv | maxSteps: 20 | spec.data.format: csv expects train.csv and test.csv",
        "a warmup longer than the run | format: idx | maxSteps: 100; schedule: {warmupSteps: 5000} | spec.training.schedule.warmupSteps: 5000 warmup steps in a run of 100 steps",
        "a name that climbs out of the checkpoint folder | name: ../escape | maxSteps: 20 | metadata.name: '../escape' is not a Kubernetes object name"})
    void aManifestThatCannotRunAsMeantIsRefusedNamingTheField(String what, String change, String training, String message,
            @TempDir Path dir) throws Exception {
        String yaml = TestJobs.yaml("mlp", 640, training.replace("; ", "\n"));
        yaml = change.startsWith("name: ") ? yaml.replace("name: test-job", change)
                : yaml.replace("    trainLimit: 640", "    " + change + "\n    trainLimit: 640");
        Path manifest = Files.writeString(dir.resolve("job.yaml"), yaml);
        Path term = dir.resolve("term.json");
        try (TrainerProcess p = TrainerProcess.start(manifest, dir.resolve("ckpt"), term)) {
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.CONFIG_ERROR);
            assertThat(String.join("\n", p.lines())).contains(message);
            assertThat(p.printed("tuning")).as("refused before the batch tuner ran").isFalse();
        }
        if (change.startsWith("format: csv")) {
            assertThat(String.join("\n", Files.readAllLines(term))).contains("it looks like idx data: set spec.data.format: idx");
        }
        assertThat(dir.resolve("ckpt").resolve("..").resolve("escape")).as("nothing written outside").doesNotExist();
    }

    /** A model that cannot fit its memory at any batch size is refused before it is built, not killed by the kernel. */
    @Test
    void aModelTooLargeForItsMemoryIsRefusedBeforeItIsBuilt(@TempDir Path dir) throws Exception {
        String yaml = TestJobs.yaml("resnet50", 640, "maxSteps: 20\nbatchSize: auto")
                .replace("    width: 8", "    width: 1024") + "  resources: {memory: 1Gi}\n";
        Path manifest = Files.writeString(dir.resolve("huge.yaml"), yaml);
        try (TrainerProcess p = TrainerProcess.start(manifest, dir.resolve("ckpt"), dir.resolve("term.json"))) {
            assertThat(p.waitFor(120)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.CONFIG_ERROR);
            assertThat(String.join("\n", p.lines())).contains("spec.model: resnet50 at width 1024 has")
                    .contains("more than the memory budget of 1.0 GiB (spec.resources.memory)");
            assertThat(p.printed("tuning")).isFalse();
        }
    }

    /**
     * Exit 78 is for pre-flight only. Data files that are there but cannot be read may be a passing problem (a network
     * volume), so that is an ordinary failure (exit 1), which the operator retries after its back-off.
     */
    @Test
    void dataThatIsThereButCannotBeReadIsAFailureNotARefusal(@TempDir Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("damaged"));
        try (var files = Files.list(TestJobs.FASHION_MNIST)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".gz")).toList()) {
                Files.write(data.resolve(f.getFileName()), new byte[] {0x1f, (byte) 0x8b, 8, 0, 1, 2, 3}); // truncated gzip
            }
        }
        Path manifest = dir.resolve("damaged.yaml");
        Files.writeString(manifest, TestJobs.yaml("mlp", 640, "maxSteps: 5").replace(TestJobs.FASHION_MNIST.toString(), data.toString()));
        Path term = dir.resolve("term.json");
        try (TrainerProcess p = TrainerProcess.start(manifest, dir.resolve("ckpt"), term)) {
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FAILED);
        }
        TrainerReport r = JSON.readValue(term.toFile(), TrainerReport.class);
        assertThat(r.exitCode).isEqualTo(ExitCodes.FAILED);
        assertThat(r.message).contains("cannot read the data at spec.data.path " + data);
    }

    static long latestStep(Path root) throws Exception {
        Path latest = root.resolve("test-job/latest");
        if (!Files.exists(latest)) return -1;
        return Long.parseLong(Files.readString(latest).trim().substring(5));
    }

    static String finalParametersHash(Path root) throws Exception {
        Path params = root.resolve("test-job/step-" + STEPS + "/parameters.bin");
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(params)));
    }
}
