package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.IdxReader;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.Losses;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** LoRA on a user's TorchScript module, by reparametrising its linear weights (ModuleAdapters, AdapterGradients). */
class ModuleAdaptersTest extends PyTorchManagerTest {
    static final int BATCH = 32;
    static final long SEED = 11;
    private static HostBatch batch;

    @BeforeAll
    static void data() throws Exception {
        ExampleSet train = IdxReader.read(TestJobs.FASHION_MNIST, "train").slice(BATCH);
        batch = new BatchAssembler(train, Normalization.of(train), null, SEED).assemble(null, 0, BATCH, 0, false);
    }

    private TorchScriptModel load() {
        return TorchScriptLoader.load(UserModels.FASHION_CNN, manager, new Shape(1, 1, 28, 28), 10);
    }

    private ModuleAdapters adapt(TorchScriptModel m) {
        return ModuleAdapters.attach(m.block(), 4, 8, List.of("fc"), Pattern.compile("^head\\."), manager);
    }

    /** The training-mode loss on the batch, dropout seeded alike on every call. */
    private float loss(TorchScriptModel m, ParameterStore ps) {
        JniUtils.setSeed(SEED);
        try (NDScope scope = new NDScope()) {
            NDArray x = manager.create(batch.x(), new Shape(BATCH, 1, 28, 28));
            NDArray logits = m.block().forward(ps, new NDList(x), true).singletonOrThrow();
            return Losses.crossEntropy(logits, manager.create(batch.y())).getFloat();
        }
    }

    @Test
    void theModuleStartsAsLoadedAndOnlyTheAdaptersAndTheNamedParametersTrain() {
        TorchScriptModel plain = load();
        ParameterStore ps = new ParameterStore(manager, false);
        float before = loss(plain, ps);
        TorchScriptModel m = load();
        ModuleAdapters adapters = adapt(m);
        assertThat(loss(m, ps)).as("B starts at zero").isEqualTo(before);

        AdapterGradients gradients = new AdapterGradients(new GradientAccumulator(m.block(), ps), adapters);
        JniUtils.setSeed(SEED);
        NDArray x = manager.create(batch.x(), new Shape(BATCH, 1, 28, 28));
        gradients.forwardBackward(x, manager.create(batch.y()), 1f);
        assertThat(gradients.gradients().stream().map(TrainableParameter::name))
                .containsExactly("head.weight", "head.bias", "fc.lora_A", "fc.lora_B");
        assertThat(adapters.parameters().get(0).getValue().getArray().getShape()).isEqualTo(new Shape(4, 784));
        assertThat(adapters.parameters().get(1).getValue().getArray().getShape()).isEqualTo(new Shape(64, 4));
        for (Pair<String, Parameter> p : m.block().getParameters()) {
            boolean trains = p.getKey().startsWith("head.") || p.getKey().equals("fc.weight");
            assertThat(p.getValue().requiresGradient()).as(p.getKey()).isEqualTo(trains);
        }
    }

    /**
     * The adapters' gradients are the loss's derivatives along them: a central difference of the loss, with A and B
     * moved together along a random direction and the weights merged, equals the gradients' inner product with it.
     */
    @Test
    void theAdaptersGradientsAreTheLossesDerivatives() {
        TorchScriptModel m = load();
        ModuleAdapters adapters = adapt(m);
        NDArray a = adapters.parameters().get(0).getValue().getArray();
        NDArray b = adapters.parameters().get(1).getValue().getArray();
        // B at zero would leave A without gradient; start from a trained-looking adapter.
        JniUtils.setSeed(3);
        NDArray trained = manager.randomNormal(0, 0.05f, b.getShape(), b.getDataType());
        ai.djl.ndarray.index.NDIndex all = new ai.djl.ndarray.index.NDIndex("...");
        b.set(all, trained);
        adapters.merge();

        ParameterStore ps = new ParameterStore(manager, false);
        AdapterGradients gradients = new AdapterGradients(new GradientAccumulator(m.block(), ps), adapters);
        JniUtils.setSeed(SEED);
        NDArray x = manager.create(batch.x(), new Shape(BATCH, 1, 28, 28));
        gradients.forwardBackward(x, manager.create(batch.y()), 1f);
        Map<String, NDArray> g = new HashMap<>();
        for (TrainableParameter p : gradients.gradients()) g.put(p.name(), p.gradient().duplicate());

        NDArray da = manager.randomNormal(0, 0.01f, a.getShape(), a.getDataType());
        NDArray db = manager.randomNormal(0, 0.01f, b.getShape(), b.getDataType());
        double predicted = g.get("fc.lora_A").mul(da).sum().getFloat() + g.get("fc.lora_B").mul(db).sum().getFloat();
        NDArray a0 = a.duplicate();
        NDArray b0 = b.duplicate();
        float eps = 0.5f;
        float[] f = new float[2];
        for (int i = 0; i < 2; i++) {
            float t = i == 0 ? eps : -eps;
            a.set(all, a0.add(da.mul(t)));
            b.set(all, b0.add(db.mul(t)));
            adapters.merge();
            f[i] = loss(m, ps);
        }
        double measured = (f[0] - f[1]) / (2.0 * eps);
        assertThat(Math.abs(predicted)).as("a direction the loss changes along").isGreaterThan(1e-4);
        assertThat(measured).isCloseTo(predicted, within(Math.abs(predicted) * 0.02));
    }

    @Test
    void aTargetThatIsNotALinearLayerOrNoLayerIsRefusedNamingTheModulesWeights() {
        TorchScriptModel m = load();
        assertThatThrownBy(() -> ModuleAdapters.attach(m.block(), 4, 8, List.of("conv1"), null, manager))
                .hasMessageContaining("2-D (linear) weights").hasMessageContaining("conv1.weight (8, 1, 3, 3)");
        TorchScriptModel other = load();
        assertThatThrownBy(() -> ModuleAdapters.attach(other.block(), 4, 8, List.of("fc", "dense"), null, manager))
                .hasMessageContaining("[dense] name no module with a weight").hasMessageContaining("head");
    }
}
