package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TorchScript model given as stages through the whole trainer (plan, tune, assemble, fit, export) with gradient
 * checkpointing, and its exported folder of stages trained further by a second job.
 */
class StagedJobTest {
    @TempDir
    Path dir;

    static String yaml(Path stages, int maxSteps) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: staged-job
                spec:
                  model:
                    architecture: torchscript
                    torchscript: %s
                  data:
                    path: %s
                    trainLimit: 512
                    testLimit: 128
                  training:
                    maxSteps: %d
                    globalBatchSize: 32
                    batchSize: 16
                    optimizer: {name: adamw, lr: 0.002}
                    seed: 7
                    threads: 1
                """.formatted(stages.toAbsolutePath().normalize(), TestJobs.FASHION_MNIST, maxSteps);
    }

    static TrainingJobManifest withCheckpointing(String yaml) {
        return TestJobs.manifest(yaml.replace("    threads: 1", "    threads: 1\n    gradientCheckpointing: true"));
    }

    @Test
    void aStagedModelTrainsWithGradientCheckpointingAndItsExportTrainsFurther() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainerRun run = new TrainerRun(TestJobs.settings(withCheckpointing(yaml(StagedModuleTest.FASHION_STAGES, 6)),
                dir.resolve("first")), new PrintStream(console, true));
        run.run();
        TrainerReport r = run.progress().report();
        assertThat(r.progress.step).as(console.toString()).isEqualTo(6);
        assertThat(r.model).as(console.toString()).isNotNull();
        Path folder = Path.of(r.model.path);
        for (int i = 0; i < 4; i++) assertThat(folder.resolve("stage-" + i + ".pt")).isRegularFile();
        assertThat(folder.resolve("model.pt")).doesNotExist();
        assertThat(Files.readString(folder.resolve("model.json"))).contains("goodput-torchscript-stages/1");
        assertThat(r.model.sha256).hasSize(64);

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        TrainerRun further = new TrainerRun(TestJobs.settings(withCheckpointing(yaml(folder, 2)), dir.resolve("second")),
                new PrintStream(again, true));
        further.run();
        assertThat(further.progress().report().progress.step).as(again.toString()).isEqualTo(2);
        System.out.println("StagedJobTest, first job:\n" + console);
    }

    /**
     * A whole job, two micro-batches per step (dropout, BatchNorm), with and without gradient checkpointing: the same
     * trained stages, byte for byte. One step's gradients being equal is not enough: the second micro-batch of a step
     * draws its dropout seed after the first's forward, which a recomputation ends in another segment than a plain
     * forward (DropoutSeeds.leave).
     */
    @Test
    void aJobWithGradientCheckpointingTrainsTheSameModelAsOneWithout() throws Exception {
        String[] sums = new String[2];
        for (int i = 0; i < 2; i++) {
            TrainingJobManifest m = TestJobs.manifest(yaml(StagedModuleTest.FASHION_STAGES, 6));
            m.spec.training.gradientCheckpointing = i == 1;
            TrainerRun run = new TrainerRun(TestJobs.settings(m, dir.resolve("run-" + i)),
                    new PrintStream(new ByteArrayOutputStream(), true));
            run.run();
            sums[i] = Files.readString(Path.of(run.progress().report().model.path).resolve("stages.sha256"));
        }
        assertThat(sums[1]).isEqualTo(sums[0]);
    }

    @Test
    void gradientCheckpointingOfASingleFileModelIsRefusedSayingToGiveStages() {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainerRun run = new TrainerRun(TestJobs.settings(withCheckpointing(yaml(UserModels.FASHION_CNN, 2)),
                dir.resolve("single")), new PrintStream(console, true));
        // Pre-flight (exit 78, not retried), before data is read or the module loaded.
        assertThatThrownBy(run::run).isInstanceOf(dev.goodput.trainer.config.ConfigRefusal.class)
                .hasMessageContaining("spec.training.gradientCheckpointing").hasMessageContaining("folder of stages");
    }
}
