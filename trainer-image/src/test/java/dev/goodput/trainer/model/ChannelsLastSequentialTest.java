package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.BatchNorm;
import ai.djl.nn.pooling.Pool;
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
            SameNetwork.assertSameFunction(m, ModelFactory.cnn(8, 0, 10), textbookCnn(8), 16, 1e-5);
        }
    }
}
