package dev.goodput.trainer.export;

import dev.goodput.trainer.checkpoint.FileSha256;
import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.api.status.ModelOutput;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.model.ModelFactory;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trained model as a job's output: a finished run leaves {@code model/} beside its checkpoints, which the
 * trainer's own builder and DJL's parameter loader turn back into the network that gives the same outputs.
 */
class ModelExportTest {
    @TempDir
    Path dir;

    @Test
    void aFinishedRunWritesAModelThatRebuildsToTheSameOutputs() throws Exception {
        TrainerRun run = TestJobs.run(TestJobs.yaml("cnn", 512, "epochs: 1"), dir, null);
        ModelOutput out = run.progress().report().model;
        assertThat(out).as("status.model").isNotNull();
        Path folder = Path.of(out.path);
        assertThat(folder).isEqualTo(dir.resolve("job").resolve("model"));
        assertThat(out.format).isEqualTo("djl");
        assertThat(out.step).isEqualTo(run.progress().report().progress.step);
        assertThat(out.sha256).isEqualTo(FileSha256.of(folder.resolve("model.params")));
        assertThat(out.bytes).isEqualTo(Files.size(folder.resolve("model.params")) + Files.size(folder.resolve("model.json")));

        ModelCard card = new ObjectMapper().readValue(folder.resolve("model.json").toFile(), ModelCard.class);
        assertThat(card.format()).isEqualTo(ModelCard.DJL);
        assertThat(card.model().architecture).isEqualTo("cnn");
        assertThat(card.input()).containsExactly(1, 28, 28);
        assertThat(card.normalization().mean()).hasSize(1);

        try (NDManager m = NDManager.newBaseManager()) {
            Block rebuilt = rebuild(card, folder, m);
            Block again = rebuild(card, folder, m);
            NDArray x = m.randomNormal(new Shape(4, 1, 28, 28));
            NDArray a = rebuilt.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            NDArray b = again.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow();
            assertThat(a.getShape()).isEqualTo(new Shape(4, 10));
            assertThat(a.contentEquals(b)).isTrue();
            // Trained weights, not a fresh initialisation: the rebuilt network differs from an untrained one.
            Block fresh = ModelFactory.build(card.model(), card.classes());
            fresh.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            assertThat(fresh.forward(new ParameterStore(m, false), new NDList(x), false).singletonOrThrow().contentEquals(a)).isFalse();
        }
    }

    @Test
    void aSecondExportReplacesTheFirstWhole() throws IOException {
        ModelWriter writer = new ModelWriter() {
            int calls;

            public String format() {
                return "test";
            }

            public String weightsFile() {
                return "w.bin";
            }

            public void writeTo(Path folder) throws IOException {
                Files.writeString(folder.resolve("w.bin"), "weights " + calls);
                if (calls++ == 0) Files.writeString(folder.resolve("only-in-first"), "x");
            }
        };
        ModelExport.write(dir, writer, 1);
        ModelOutput second = ModelExport.write(dir, writer, 2);
        assertThat(Files.readString(dir.resolve("model/w.bin"))).isEqualTo("weights 1");
        assertThat(dir.resolve("model/only-in-first")).doesNotExist();
        assertThat(second.step).isEqualTo(2);
        try (var s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("model");
        }
    }

    private static Block rebuild(ModelCard card, Path folder, NDManager m) throws Exception {
        Block b = ModelFactory.build(card.model(), card.classes());
        b.initialize(m, DataType.FLOAT32, new Shape(1, card.input()[0], card.input()[1], card.input()[2]));
        try (DataInputStream in = new DataInputStream(Files.newInputStream(folder.resolve(card.weights())))) {
            b.loadParameters(m, in);
        }
        return b;
    }
}
