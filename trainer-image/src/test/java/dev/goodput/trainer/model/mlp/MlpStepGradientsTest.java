package dev.goodput.trainer.model.mlp;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.IdxReader;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.model.TrainableParameters;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.precision.HalfPrecisionModel;
import dev.goodput.trainer.run.GradientSources;
import dev.goodput.trainer.runtime.NativeCopy;
import java.nio.FloatBuffer;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The MLP's one-graph step against DJL's blocks and autograd on the same network and real Fashion-MNIST batches: the
 * same losses and gradients, accumulated over micro-batches, scaled, and started afresh after each step.
 */
class MlpStepGradientsTest {
    private static BatchAssembler batches;

    @BeforeAll
    static void data() throws Exception {
        ExampleSet set = IdxReader.read(TestJobs.FASHION_MNIST, "t10k").slice(256);
        batches = new BatchAssembler(set, Normalization.of(set), null, 1);
    }

    @ParameterizedTest(name = "hidden layers {0}")
    @CsvSource({"'256,128'", "''", "'64,32,16'"})
    void sameLossesAndGradientsAsAutograd(String hidden) {
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed(11);
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            List<Integer> sizes = hidden.isEmpty() ? List.of() : List.of(hidden.split(",")).stream().map(Integer::valueOf).toList();
            MlpNetwork ours = network(m, sizes);
            MlpNetwork reference = network(m, sizes);
            for (int i = 0; i < ours.getParameters().size(); i++) {
                NativeCopy.into(reference.getParameters().get(i).getValue().getArray(), ours.getParameters().get(i).getValue().getArray());
            }
            GradientSource oneGraph = new MlpStepGradients(ours);
            GradientSource autograd = new GradientAccumulator(reference, new ParameterStore(m, false));
            // Three steps: one micro-batch; three accumulated with a loss scale (as fp16 scaling would pass); one again,
            // which must replace the accumulated gradients, not add to them.
            int[][] steps = {{0}, {64, 96, 128}, {192}};
            float[] scales = {1f, 256f, 1f};
            for (int s = 0; s < steps.length; s++) {
                try (NDScope scope = new NDScope()) {
                    for (int from : steps[s]) {
                        NDArray x = x(m, from, 32);
                        NDArray y = y(m, from, 32);
                        float a = oneGraph.forwardBackward(x, y, scales[s]);
                        float b = autograd.forwardBackward(x, y, scales[s]);
                        assertThat((double) a).as("loss, step %d", s).isCloseTo(b, org.assertj.core.data.Offset.offset(1e-6));
                        assertThat(a).isGreaterThan(0.1f);
                    }
                    assertSameGradients(oneGraph.gradients(), autograd.gradients(), s);
                }
                oneGraph.zeroGradients();
                autograd.zeroGradients();
            }
        }
    }

    @Test
    void gradientsAreNamedAsTheNetworksParametersForTheOptimizerAndCheckpoints() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            MlpNetwork mlp = network(m, List.of(256, 128));
            List<TrainableParameter> gradients = new MlpStepGradients(mlp).gradients();
            // A SequentialBlock's names (flatten is child 01): those of every checkpoint of the built-in MLP.
            assertThat(mlp.getParameters().keys()).containsExactly("02Linear_weight", "02Linear_bias", "04Linear_weight",
                    "04Linear_bias", "06Linear_weight", "06Linear_bias");
            assertThat(gradients).extracting(TrainableParameter::name).containsExactlyElementsOf(mlp.getParameters().keys());
            for (TrainableParameter p : gradients) {
                assertThat(p.value()).isSameAs(mlp.getParameters().get(p.name()).getArray());
                assertThat(p.gradient().getShape()).isEqualTo(p.value().getShape());
            }
        }
    }

    /** Which networks the one-graph step serves; the rest train through DJL's blocks and autograd. */
    @ParameterizedTest(name = "{0}, dropout {1}, trainable {2}, fp16 {3}: one graph {4}")
    @CsvSource({
            "mlp,  0,   ,         false, true",
            "mlp,  0.2, ,         false, false", // dropout's masks are drawn by its block
            "mlp,  0,   04Linear, false, false", // frozen layers have no gradients
            "mlp,  0,   ,         true,  false", // mixed precision
            "cnn,  0,   ,         false, false",
    })
    void servesTheMlpWithoutDropoutFrozenLayersOrHalfPrecision(String architecture, float dropout, String trainable,
                                                                boolean fp16, boolean oneGraph) {
        ModelSpec spec = new ModelSpec();
        spec.architecture = architecture;
        spec.dropout = (double) dropout;
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            Block block = ModelFactory.build(spec, 10);
            if (trainable != null) TrainableParameters.freezeAllBut(block, trainable);
            block.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
            if (fp16) HalfPrecisionModel.convert(block.getParameters());
            GradientSource source = GradientSources.forModel(block, new ParameterStore(m, false), false, fp16);
            assertThat(source).isInstanceOf(oneGraph ? MlpStepGradients.class : GradientAccumulator.class);
        }
    }

    private static MlpNetwork network(NDManager m, List<Integer> hidden) {
        MlpNetwork mlp = MlpNetwork.build(hidden, 0f, 10);
        mlp.initialize(m, DataType.FLOAT32, new Shape(1, 1, 28, 28));
        return mlp;
    }

    private static void assertSameGradients(List<TrainableParameter> ours, List<TrainableParameter> reference, int step) {
        assertThat(ours).extracting(TrainableParameter::name).containsExactlyElementsOf(
                reference.stream().map(TrainableParameter::name).toList());
        for (int i = 0; i < ours.size(); i++) {
            float[] a = ours.get(i).gradient().toFloatArray();
            float[] b = reference.get(i).gradient().toFloatArray();
            double largest = 0;
            double difference = 0;
            for (int j = 0; j < a.length; j++) {
                largest = Math.max(largest, Math.abs(b[j]));
                difference = Math.max(difference, Math.abs(a[j] - b[j]));
            }
            assertThat(largest).as("gradient of %s is not trivially zero", ours.get(i).name()).isGreaterThan(1e-4);
            assertThat(difference).as("gradient of %s, step %d", ours.get(i).name(), step).isLessThanOrEqualTo(1e-6 * largest);
        }
    }

    private static NDArray x(NDManager m, int from, int n) {
        HostBatch b = batches.assemble(null, from, n, 0, false);
        return m.create(FloatBuffer.wrap(b.x()), new Shape(n, 1, 28, 28));
    }

    private static NDArray y(NDManager m, int from, int n) {
        return m.create(batches.assemble(null, from, n, 0, false).y());
    }
}
