package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TrainerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LoRA fine-tune preempted by a real SIGTERM and resumed ends byte-identical to one that never was: the same
 * adapters and head in the last checkpoint, the same merged model exported. Its checkpoints hold only what trains
 * (adapters and head), with the base weights named by hash.
 */
class LoraResumeTest {
    static final int STEPS = 24;

    @Test
    void aPreemptedLoraRunEndsByteIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("job.yaml");
        // Dropout on in the adapters and the encoder, so the test covers the randomness a resumed run must replay.
        Files.writeString(manifest, TextJobs.yaml(512, "lora: {rank: 4, dropout: 0.1}", "maxSteps: " + STEPS)
                .replace("name: text-job", "name: test-job"));

        Path reference = dir.resolve("reference");
        try (TrainerProcess p = TrainerProcess.start(manifest, reference, dir.resolve("ref.json"))) {
            await().atMost(Duration.ofSeconds(120)).until(() -> p.printed("model bert-classifier:"));
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
        }
        Path resumed = dir.resolve("resumed");
        try (TrainerProcess p = TrainerProcess.start(manifest, resumed, dir.resolve("first.json"), "--metrics-port", "0")) {
            // Half way through the run by its step, whatever the machine's speed or load.
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> p.metricsPort() > 0 && p.progress() != null && p.progress().progress.step >= STEPS / 2);
            p.sigterm();
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.PREEMPTED);
        }
        long preemptedAt = Long.parseLong(Files.readString(resumed.resolve("test-job/latest")).trim().substring(5));
        assertThat(preemptedAt).isBetween(1L, STEPS - 1L);
        Path partial = resumed.resolve("test-job/step-" + preemptedAt + "/parameters.bin");
        assertThat(Files.size(partial)).as("adapters and head only").isLessThan(1 << 20);
        assertThat(Files.readString(resumed.resolve("test-job/step-" + preemptedAt + "/state.json"))).contains("baseWeights");
        try (TrainerProcess p = TrainerProcess.start(manifest, resumed, dir.resolve("second.json"))) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("resumed from")).isTrue();
        }
        assertThat(sha256(resumed.resolve("test-job/step-" + STEPS + "/parameters.bin")))
                .isEqualTo(sha256(reference.resolve("test-job/step-" + STEPS + "/parameters.bin")));
        assertThat(sha256(resumed.resolve("test-job/model/model.safetensors")))
                .isEqualTo(sha256(reference.resolve("test-job/model/model.safetensors")));
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
