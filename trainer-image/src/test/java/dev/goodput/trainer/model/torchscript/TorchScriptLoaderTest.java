package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading a user's TorchScript module, and the errors that tell the user what to change. */
class TorchScriptLoaderTest extends PyTorchManagerTest {
    static final Shape ONE = new Shape(1, 1, 28, 28);
    @TempDir
    Path dir;

    @Test
    void loadsTheExampleWithItsParametersAndBuffers() {
        TorchScriptModel m = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, ONE, 10);
        assertThat(m.block().getParameters().keys()).containsExactly("logit_scale", "conv1.weight", "bn1.weight",
                "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias", "fc.weight", "fc.bias", "norm.weight", "norm.bias",
                "head.weight", "head.bias");
        for (Pair<String, Parameter> p : m.block().getParameters()) {
            assertThat(p.getValue().requiresGradient()).as(p.getKey()).isTrue();
        }
        assertThat(m.buffers().names()).containsExactly(UserModels.BUFFERS);
        assertThat(m.buffers().read()).containsOnlyKeys(UserModels.BUFFERS);
        assertThat(System.getProperty(TorchScriptLoader.GRAPH_OPTIMIZER_PROPERTY)).isEqualTo("false");
    }

    @Test
    void trainsInTrainModeAndEvaluatesInEvalMode() {
        TorchScriptModel m = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, ONE, 10);
        ParameterStore ps = new ParameterStore(manager, false);
        NDArray x = manager.randomNormal(new Shape(8, 1, 28, 28));
        // Dropout is on in training: two seeds, two outputs (libtorch loads modules in eval mode, where they agree).
        JniUtils.setSeed(1);
        float[] train1 = forward(m, ps, x, true);
        JniUtils.setSeed(2);
        float[] train2 = forward(m, ps, x, true);
        assertThat(train1).isNotEqualTo(train2);
        float[] eval1 = forward(m, ps, x, false);
        assertThat(forward(m, ps, x, false)).isEqualTo(eval1);
        // Back to training after the evaluation: the same seed gives the same dropout mask again, and a different
        // output from eval mode.
        JniUtils.setSeed(1);
        float[] train3 = forward(m, ps, x, true);
        assertThat(train3).isEqualTo(train1).isNotEqualTo(eval1);
        assertThat(m.buffers().read()).isNotNull();
    }

    private static float[] forward(TorchScriptModel m, ParameterStore ps, NDArray x, boolean training) {
        try (NDScope scope = new NDScope()) {
            return m.block().forward(ps, new NDList(x), training).singletonOrThrow().toFloatArray();
        }
    }

    @Test
    void aMissingFileIsNamed() {
        Path missing = dir.resolve("nope.pt");
        assertThatThrownBy(() -> TorchScriptLoader.load(missing, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining(missing.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void aFileThatIsNotAZipIsRefused() throws IOException {
        Path text = Files.writeString(dir.resolve("model.pt"), "not a model");
        assertThatThrownBy(() -> TorchScriptLoader.load(text, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("not a TorchScript archive")
                .hasMessageContaining("torch.jit.script");
    }

    @Test
    void aTorchSaveArchiveIsToldApartFromTorchScript() throws IOException {
        // What torch.save(model.state_dict()) writes: data.pkl and tensors, no code.
        Path file = dir.resolve("state_dict.pt");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            for (String name : new String[] {"state_dict/data.pkl", "state_dict/data/0", "state_dict/version"}) {
                zip.putNextEntry(new ZipEntry(name));
                zip.write("x".getBytes(StandardCharsets.UTF_8));
                zip.closeEntry();
            }
        }
        assertThatThrownBy(() -> TorchScriptLoader.load(file, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("torch.save")
                .hasMessageContaining("torch.jit.script(model).save(path)");
    }

    @Test
    void logitsOfTheWrongWidthSayWhatToChange() {
        assertThatThrownBy(() -> TorchScriptLoader.load(UserModels.FASHION_CNN, manager, ONE, 5))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("(1, 10)")
                .hasMessageContaining("must return (1, 5)").hasMessageContaining("5 outputs");
    }

    @Test
    void inputsOfAnotherShapeAreRefusedWithTheShape() {
        Shape rgb = new Shape(1, 3, 32, 32);
        assertThatThrownBy(() -> TorchScriptLoader.load(UserModels.FASHION_CNN, manager, rgb, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("(1, 3, 32, 32)");
    }
}
