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
            // 4 PiB of floats, more than the 128 TiB of a process's address space: the allocator's mmap fails whatever
            // the kernel's overcommit policy (a Kubernetes node runs with vm.overcommit_memory=1, under which a request
            // that fits the address space, however large, is granted and then fills the machine as it is zeroed).
            // libtorch's CPU allocator raises its error, and DJL wraps the message in an EngineException.
            Throwable t = catchThrowable(() -> m.zeros(new Shape(1L << 50)));
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
