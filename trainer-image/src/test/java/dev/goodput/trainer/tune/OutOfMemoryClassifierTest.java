package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ai.djl.engine.Engine;
import ai.djl.engine.EngineException;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;

class OutOfMemoryClassifierTest {

    @Test
    void recognisesTheRealCpuAllocatorError() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            // 16 TiB of floats: libtorch's CPU allocator refuses it and DJL wraps its message in an EngineException.
            Throwable t = catchThrowable(() -> m.zeros(new Shape(1L << 42)));
            assertThat(t).isInstanceOf(EngineException.class);
            assertThat(OutOfMemoryClassifier.isOutOfMemory(t)).as(t.getMessage()).isTrue();
        }
    }

    @Test
    void recognisesTheCudaCachingAllocatorMessage() {
        // The text libtorch 2.7's CUDA caching allocator raises, as DJL wraps it.
        EngineException e = new EngineException("CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of "
                + "79.19 GiB of which 1.06 GiB is free. Of the allocated memory 76.12 GiB is allocated by PyTorch");
        assertThat(OutOfMemoryClassifier.isOutOfMemory(new RuntimeException("probe failed", e))).isTrue();
    }

    @Test
    void otherEngineErrorsAreNotOutOfMemory() {
        assertThat(OutOfMemoryClassifier.isOutOfMemory(new EngineException("mat1 and mat2 shapes cannot be multiplied (8x3 and 4x5)"))).isFalse();
        assertThat(OutOfMemoryClassifier.isOutOfMemory(new IllegalStateException((String) null))).isFalse();
    }
}
