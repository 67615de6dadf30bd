package dev.goodput.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.goodput.trainer.data.HostBatch;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StagingBuffersTest {

    @Test
    void batchesOfChangingSizeArriveExactlyAndTheBufferIsReused() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            StagingBuffers staging = new StagingBuffers();
            Random random = new Random(5);
            // A full batch, a short last batch of the epoch, then full again (the buffers only grow).
            for (int n : new int[] {4, 3, 4, 1}) {
                HostBatch b = batch(random, n);
                NDArray x = staging.features(m, b, new Shape(n, 1, 2, 3));
                NDArray y = staging.labels(m, b);
                assertThat(x.getShape()).isEqualTo(new Shape(n, 1, 2, 3));
                assertThat(x.getDataType()).isEqualTo(DataType.FLOAT32);
                assertThat(x.toFloatArray()).containsExactly(b.x());
                assertThat(y.getShape()).isEqualTo(new Shape(n));
                assertThat(y.getDataType()).isEqualTo(DataType.INT64);
                assertThat(y.toLongArray()).containsExactly(b.y());
            }
        }
    }

    @Test
    void anArrayShowsTheNextBatchOnceItIsStaged() {
        // The documented contract, and the reason a step must finish with a batch before staging the next.
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            StagingBuffers staging = new StagingBuffers();
            Random random = new Random(6);
            NDArray first = staging.features(m, batch(random, 2), new Shape(2, 6));
            HostBatch second = batch(random, 2);
            staging.features(m, second, new Shape(2, 6));
            assertThat(first.toFloatArray()).containsExactly(second.x());
        }
    }

    private static HostBatch batch(Random random, int n) {
        float[] x = new float[n * 6];
        long[] y = new long[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextGaussian();
        for (int i = 0; i < n; i++) y[i] = random.nextInt(10);
        return new HostBatch(x, y, n);
    }
}
