package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.loop.Losses;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The channels-last layout and the pool-before-ReLU order change how the built-in CNN computes, not what: against the
 * textbook network (NCHW, ReLU then pool) with the same parameters, the same logits, loss and gradients, and the same
 * parameter names, so checkpoints of either load into the other.
 */
class ChannelsLastSequentialTest {

    @ParameterizedTest
    @ValueSource(ints = {1, 3})
    void theLayoutKeepsEveryValueInItsPlace(int channels) {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            NDArray x = m.arange(0f, 2f * channels * 5 * 4).reshape(2, channels, 5, 4);
            NDArray laidOut = ChannelsLastSequential.channelsLast(x);
            assertThat(laidOut.getShape()).isEqualTo(x.getShape());
            assertThat(laidOut.toFloatArray()).containsExactly(x.toFloatArray());
            assertThat(laidOut.get("1, {}, 3, 2", channels - 1).getFloat()).isEqualTo(x.get("1, {}, 3, 2", channels - 1).getFloat());
        }
    }

    /** The CNN as ModelFactory built it before: ReLU before max-pool, NCHW. */
    static Block textbookCnn(int width) {
        SequentialBlock net = new SequentialBlock();
        for (int filters : new int[] {width, 2 * width}) {
            net.add(Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters)
                            .optBias(false).build())
                    .add(BatchNorm.builder().build()).add(Activation.reluBlock())
                    .add(Pool.maxPool2dBlock(new Shape(2, 2), new Shape(2, 2)));
        }
        return net.add(Blocks.batchFlattenBlock()).add(Linear.builder().setUnits(4L * width).build())
                .add(Activation.reluBlock()).add(Linear.builder().setUnits(10).build());
    }

    @Test
    void theBuiltInCnnComputesWhatTheTextbookOrderAndLayoutCompute() {
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed(5);
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            Shape input = new Shape(1, 1, 28, 28);
            Block ours = ModelFactory.cnn(8, 0, 10);
            Block textbook = textbookCnn(8);
            ours.initialize(m, DataType.FLOAT32, input);
            textbook.initialize(m, DataType.FLOAT32, input);
            Map<String, Parameter> theirs = new HashMap<>();
            for (Pair<String, Parameter> p : textbook.getParameters()) theirs.put(p.getKey(), p.getValue());
            List<String> names = ours.getParameters().keys();
            assertThat(names).as("the parameter names a checkpoint holds").containsExactlyElementsOf(textbook.getParameters().keys());
            for (Pair<String, Parameter> p : ours.getParameters()) theirs.get(p.getKey()).getArray().set(p.getValue().getArray().toFloatArray());

            NDArray x = m.randomNormal(new Shape(16, 1, 28, 28));
            NDArray y = m.randomInteger(0, 10, new Shape(16), DataType.INT64);
            float[] ourLogits = step(m, ours, x, y);
            float[] theirLogits = step(m, textbook, x, y);
            assertThat(maxDifference(ourLogits, theirLogits)).as("logits").isLessThan(1e-5);
            for (String name : names) {
                if (!ours.getParameters().get(name).requiresGradient()) continue; // BatchNorm's running statistics
                float[] g1 = ours.getParameters().get(name).getArray().getGradient().toFloatArray();
                float[] g2 = theirs.get(name).getArray().getGradient().toFloatArray();
                double scale = 0;
                for (float v : g2) scale = Math.max(scale, Math.abs(v));
                assertThat(maxDifference(g1, g2)).as("gradient of %s", name).isLessThanOrEqualTo(1e-5 * Math.max(1, scale));
            }
        }
    }

    private static float[] step(NDManager m, Block block, NDArray x, NDArray y) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray logits = block.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            gc.backward(Losses.crossEntropy(logits, y));
            return logits.toFloatArray();
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
