package dev.goodput.trainer.model.torchscript;

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
 * A LoRA job on the example TorchScript module, as a pod runs it: adapters on fc, the head trained, the rest frozen.
 * Preempted by a real SIGTERM and resumed, it ends byte-identical to a run that never was; its checkpoints hold the
 * adapters and the head alone, with the module file named by hash; the exported module has the adapters merged.
 */
class ModuleLoraJobTest {
    static final int STEPS = 300;

    @Test
    void aPreemptedLoraJobOnATorchScriptModuleEndsByteIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        Path manifest = dir.resolve("job.yaml");
        Files.writeString(manifest, StagedJobTest.yaml(UserModels.FASHION_CNN, STEPS)
                .replace("name: staged-job", "name: lora-job")
                .replace("    torchscript: ", "    trainable: '^head\\.'\n    lora: {rank: 4, alpha: 8, targets: [fc]}\n    torchscript: "));

        Path reference = dir.resolve("reference");
        try (TrainerProcess p = TrainerProcess.start(manifest, reference, dir.resolve("ref.json"))) {
            await().atMost(Duration.ofSeconds(120)).until(() -> p.printed("model torchscript:") || !p.alive());
            assertThat(p.printed("model torchscript:")).as(String.join("\n", p.lines())).isTrue();
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            // 4 x 784 + 64 x 4 adapters and the 650 of the head.
            assertThat(p.printed("4,042 of ")).as(String.join("\n", p.lines())).isTrue();
        }
        Path resumed = dir.resolve("resumed");
        try (TrainerProcess p = TrainerProcess.start(manifest, resumed, dir.resolve("first.json"), "--metrics-port", "0")) {
            // Signalled by the step it reached, not after a time: on a loaded machine the reference's time says little
            // about this run's.
            await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(20))
                    .until(() -> p.metricsPort() > 0 && p.progress() != null && p.progress().progress.step >= STEPS / 3);
            p.sigterm();
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.PREEMPTED);
        }
        long preemptedAt = Long.parseLong(Files.readString(resumed.resolve("lora-job/latest")).trim().substring(5));
        assertThat(preemptedAt).isBetween(1L, STEPS - 1L);
        Path step = resumed.resolve("lora-job/step-" + preemptedAt);
        // fc.weight alone is 64 x 784 floats (200 KB).
        assertThat(Files.size(step.resolve("parameters.bin"))).as("adapters and head only").isLessThan(40_000);
        assertThat(Files.readString(step.resolve("state.json"))).contains("baseWeights").contains("fashion_cnn.pt");
        try (TrainerProcess p = TrainerProcess.start(manifest, resumed, dir.resolve("second.json"))) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("resumed from")).isTrue();
        }
        assertThat(sha256(resumed.resolve("lora-job/step-" + STEPS + "/parameters.bin")))
                .isEqualTo(sha256(reference.resolve("lora-job/step-" + STEPS + "/parameters.bin")));
        Path exported = reference.resolve("lora-job/model/model.pt");
        assertThat(exported).isRegularFile();
        assertThat(sha256(resumed.resolve("lora-job/model/model.pt"))).isEqualTo(sha256(exported));
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }
}
