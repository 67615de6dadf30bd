package dev.goodput.trainer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * The gradient of a product with a constant, taken after the GC has run between forward and backward, as it does at
 * any moment in a training step.
 */
class NativeScalarTest {
    private static final BufferPoolMXBean DIRECT = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
            .filter(b -> b.getName().equals("direct")).findFirst().orElseThrow();

    @Test
    void theGradientSurvivesTheGc() throws Exception {
        assertThat(gradientAfterGc(x -> NativeScalar.multiply(x, 3f))).containsOnly(3f);
    }

    /** Why NativeScalar exists: DJL's own product with a number loses its gradient once the GC frees its buffer. */
    @Test
    void djlsProductWithANumberDoesNot() throws Exception {
        assertThat(gradientAfterGc(x -> x.mul(3f))).doesNotContain(3f);
    }

    @Test
    void keepsTheArraysTypeAndValues() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray half = m.arange(4f).toType(DataType.FLOAT16, false);
            NDArray y = NativeScalar.multiply(half, 0.5f);
            assertThat(y.getDataType()).isEqualTo(DataType.FLOAT16);
            assertThat(y.getShape()).isEqualTo(new Shape(4));
            assertThat(y.toType(DataType.FLOAT32, false).toFloatArray()).containsExactly(0f, 0.5f, 1f, 1.5f);
        }
    }

    private static float[] gradientAfterGc(Function<NDArray, NDArray> product) throws InterruptedException {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray x = m.ones(new Shape(4));
            x.setRequiresGradient(true);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                long before = DIRECT.getCount();
                NDArray y = product.apply(x).sum();
                long after = DIRECT.getCount();
                // DJL's path left a direct buffer behind, unreachable; wait until the GC has freed it (NativeScalar's
                // leaves none, and the wait ends at once).
                for (int i = 0; i < 200 && DIRECT.getCount() >= after && after > before; i++) {
                    System.gc();
                    Thread.sleep(10);
                }
                assertThat(DIRECT.getCount()).as("direct buffers").isLessThanOrEqualTo(before);
                gc.backward(y);
            }
            return x.getGradient().toFloatArray();
        }
    }
}
