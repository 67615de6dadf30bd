package dev.goodput.trainer;

import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.trainer.config.RunSettings;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

/** Small real jobs on a slice of Fashion-MNIST, for tests that train. */
public final class TestJobs {
    public static final Path FASHION_MNIST = Path.of("/usr/share/datasets/fashion-mnist");

    private TestJobs() {}

    /** A CNN (or the given model) on {@code train} examples, evaluated on 1,000 test examples. */
    public static String yaml(String architecture, int train, String trainingExtra) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: test-job
                spec:
                  model:
                    architecture: %s
                    width: 8
                  data:
                    path: %s
                    trainLimit: %d
                    testLimit: 1000
                  training:
                    globalBatchSize: 64
                    optimizer:
                      name: adamw
                      lr: 0.002
                    seed: 7
                    threads: 1
                %s
                """.formatted(architecture, FASHION_MNIST, train, indent(trainingExtra, "    "));
    }

    private static String indent(String s, String by) {
        return s.isBlank() ? "" : s.lines().map(l -> by + l).reduce((a, b) -> a + "\n" + b).orElse("");
    }

    public static TrainingJobManifest manifest(String yaml) {
        return ManifestReader.parse(yaml, "test.yaml");
    }

    public static RunSettings settings(TrainingJobManifest m, Path checkpoints) {
        return new RunSettings(m, Path.of("test.yaml"), checkpoints, "job", 0, -1, null, false, null, false, null,
                dev.goodput.trainer.distributed.World.single());
    }

    /** Runs the trainer in this JVM, its console output captured. */
    public static TrainerRun run(String yaml, Path checkpoints, dev.goodput.trainer.loop.ProgressListener listener) {
        PrintStream out = new PrintStream(new ByteArrayOutputStream());
        TrainerRun run = new TrainerRun(settings(manifest(yaml), checkpoints), out);
        if (listener != null) run.addListener(listener);
        run.run();
        return run;
    }
}
