package dev.goodput.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ManifestReaderTest {
    static final String GOOD = """
            apiVersion: goodput.dev/v1alpha1
            kind: TrainingJob
            metadata:
              name: fm
              labels: {team: ml}
            spec:
              model:
                architecture: cnn
              data:
                path: /data
              training:
                epochs: 2
                globalBatchSize: 128
                batchSize: 32
                optimizer:
                  name: adamw
                  lr: 0.001
            """;

    @Test
    void readsEveryExampleInTheRepository() throws IOException {
        try (Stream<Path> files = Files.list(Path.of("..", "examples"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                TrainingJobManifest m = ManifestReader.read(f);
                assertThat(m.kind).isEqualTo("TrainingJob");
                assertThat(m.spec.model.architecture).isNotBlank();
            }
        }
    }

    @Test
    void readsAGoodManifestWithDefaults() {
        TrainingJobManifest m = ManifestReader.parse(GOOD, "good.yaml");
        assertThat(m.metadata.name).isEqualTo("fm");
        assertThat(m.spec.training.batchSize).isEqualTo("32");
        assertThat(m.spec.training.precision).isEqualTo("auto");
        assertThat(m.spec.checkpoint.keep).isEqualTo(3);
        assertThat(m.spec.data.format).isEqualTo("idx");
    }

    @Test
    void unknownFieldNamesTheFieldTheLineAndTheFile(@TempDir Path dir) throws IOException {
        Path f = dir.resolve("typo.yaml");
        Files.writeString(f, GOOD.replace("epochs: 2", "epocs: 2"));
        assertThatThrownBy(() -> ManifestReader.read(f))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining(f.toString())
                .hasMessageContaining("spec.training.epocs: unknown field (line 12)")
                .hasMessageContaining("epochs");
    }

    @Test
    void wrongTypeNamesTheFieldAndTheExpectedType() {
        assertThatThrownBy(() -> ManifestReader.parse(GOOD.replace("epochs: 2", "epochs: two"), "t.yaml"))
                .hasMessageContaining("spec.training.epochs").hasMessageContaining("integer");
    }

    @Test
    void overridesApplyBeforeBindingAndKeepTypes() {
        TrainingJobManifest m = ManifestReader.parse(GOOD, "good.yaml",
                Map.of("spec.training.epochs", "5", "spec.data.trainLimit", "100", "spec.target.value", "0.9",
                        "spec.target.metric", "accuracy"));
        assertThat(m.spec.training.epochs).isEqualTo(5);
        assertThat(m.spec.data.trainLimit).isEqualTo(100);
        assertThat(m.spec.target.value).isEqualTo(0.9);
        assertThatThrownBy(() -> ManifestReader.parse(GOOD, "good.yaml", Map.of("spec.training.epoch", "5")))
                .hasMessageContaining("spec.training.epoch: unknown field");
    }

    static Stream<Arguments> badManifests() {
        return Stream.of(
                Arguments.of("architecture: cnn", "architecture: transformer", "spec.model.architecture: \"transformer\" is not one of mlp, cnn, resnet20, resnet18, resnet50"),
                Arguments.of("lr: 0.001", "lr: 0", "spec.training.optimizer.lr: must be > 0"),
                Arguments.of("lr: 0.001", "lr: -1", "spec.training.optimizer.lr: must be > 0"),
                Arguments.of("batchSize: 32", "batchSize: 48", "spec.training.batchSize: must divide spec.training.globalBatchSize"),
                Arguments.of("batchSize: 32", "batchSize: many", "spec.training.batchSize: must be auto or a positive integer"),
                Arguments.of("epochs: 2", "epochs: 2\n    precision: bf16", "spec.training.precision: bf16 is not supported"),
                Arguments.of("lr: 0.001", "lr: 0.001\n  target: {metric: f1, value: 0.9}", "spec.target.metric: \"f1\" is not one of accuracy, loss"),
                Arguments.of("path: /data", "path: \"\"", "spec.data.path: missing"),
                Arguments.of("name: adamw", "name: lamb", "spec.training.optimizer.name: \"lamb\" is not one of adamw, sgd"),
                Arguments.of("epochs: 2", "maxDuration: soon", "spec.training.maxDuration"),
                Arguments.of("epochs: 2", "epochs: 2\n    batchMargin: 0.7", "spec.training.batchMargin: must be <= 0.5, got 0.7"),
                Arguments.of("kind: TrainingJob", "kind: Job", "kind: expected TrainingJob"));
    }

    @ParameterizedTest
    @MethodSource("badManifests")
    void refusesBadContentNamingTheField(String from, String to, String message) {
        String yaml = GOOD.replace(from, to);
        assertThat(yaml).isNotEqualTo(GOOD);
        assertThatThrownBy(() -> ManifestReader.parse(yaml, "bad.yaml"))
                .isInstanceOf(ManifestException.class)
                .hasMessageContaining("bad.yaml")
                .hasMessageContaining(message);
    }

    @Test
    void aTargetCreatedByAnOverrideNeedsItsMetricAsOnACluster() {
        // The CRD requires spec.target.metric: the apiserver refuses a target without one, and so does a local run.
        assertThatThrownBy(() -> ManifestReader.parse(GOOD, "good.yaml", Map.of("spec.target.value", "0.9")))
                .hasMessageContaining("spec.target.metric: missing");
    }

    @Test
    void aFieldSetToNullTakesItsDefaultAsTheApiserverPrunesIt() {
        TrainingJobManifest m = ManifestReader.parse(GOOD.replace("lr: 0.001", "lr:"), "n.yaml");
        assertThat(m.spec.training.optimizer.lr).isEqualTo(1e-3);
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        String yaml = GOOD.replace("architecture: cnn", "architecture: cnn\n    width: 0").replace("lr: 0.001", "lr: 0");
        assertThatThrownBy(() -> ManifestReader.parse(yaml, "two.yaml"))
                .hasMessageContaining("spec.model.width: must be >= 1, got 0")
                .hasMessageContaining("spec.training.optimizer.lr: must be > 0");
    }

    @Test
    void aJobWithoutAnyBudgetIsRefused() {
        assertThatThrownBy(() -> ManifestReader.parse(GOOD.replace("    epochs: 2\n", ""), "b.yaml"))
                .hasMessageContaining("spec: no budget: set spec.training.epochs, spec.training.maxSteps");
    }
}
