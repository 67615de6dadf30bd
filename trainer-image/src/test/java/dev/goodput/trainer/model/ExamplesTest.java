package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.data.DataSource;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every manifest in examples/ as a user runs it from the repository root: read strictly, its model files and data
 * found, and a short slice of it trained through the whole trainer, ending with its model written.
 */
class ExamplesTest {
    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    static Stream<String> examples() throws Exception {
        try (Stream<Path> s = Files.list(ROOT.resolve("examples"))) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yaml")).sorted().toList().stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("examples")
    void anExampleRunsAsWrittenOnASliceOfItsData(String file, @TempDir Path dir) throws Exception {
        // Paths in the examples are relative to the repository root, where the README runs them.
        String yaml = Files.readString(ROOT.resolve("examples").resolve(file))
                .replaceAll("(torchscript|pretrained|path): (examples|goodput-data)/", "$1: " + ROOT + "/$2/");
        TrainingJobManifest m = ManifestReader.parse(yaml, file);
        ModelFiles.checkReadable(m.spec.model);
        DataSource.checkReadable(m.spec.data);
        // A slice: a few steps of the example's own model, data, optimizer and schedule.
        TrainingJobManifest slice = ManifestReader.parse(yaml, file, Map.of("spec.data.trainLimit", "256",
                "spec.data.testLimit", "64", "spec.training.maxSteps", "4", "spec.training.globalBatchSize", "16",
                "spec.training.batchSize", "16", "spec.training.threads", "2"));
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainerRun run = new TrainerRun(TestJobs.settings(slice, dir), new PrintStream(console, true));
        run.run();
        TrainerReport r = run.progress().report();
        assertThat(r.progress.step).as(console.toString()).isEqualTo(4);
        assertThat(r.model).as(console.toString()).isNotNull();
        assertThat(Path.of(r.model.path).resolve("model.json")).exists();
    }
}
