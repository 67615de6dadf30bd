package dev.goodput.trainer.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Test;

class NativeCopyTest {

    @Test
    void writesIntoTheArraysOwnStorage() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.zeros(new Shape(2, 3));
            // A view shares target's storage: it sees the copy only if the copy went into that storage.
            NDArray view = target.reshape(6);
            NativeCopy.into(target, m.arange(6f).reshape(2, 3));
            assertThat(target.toFloatArray()).containsExactly(0, 1, 2, 3, 4, 5);
            assertThat(view.toFloatArray()).containsExactly(0, 1, 2, 3, 4, 5);
        }
    }

    /** What the trainer no longer does: DJL's set(Buffer) moves the tensor to new storage, away from its views. */
    @Test
    void djlsSetFromABufferRepointsTheTensorInstead() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.zeros(new Shape(3));
            NDArray view = target.reshape(3);
            target.set(m.arange(3f).toByteBuffer());
            assertThat(target.toFloatArray()).containsExactly(0, 1, 2);
            assertThat(view.toFloatArray()).containsExactly(0, 0, 0);
        }
    }

    @Test
    void aParameterThatRequiresGradientsIsWrittenAndStillTrains() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray w = m.zeros(new Shape(3));
            w.setRequiresGradient(true);
            NativeCopy.into(w, m.create(new float[] {1, 2, 3}));
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                gc.backward(w.mul(w).sum());
            }
            assertThat(w.getGradient().toFloatArray()).containsExactly(2, 4, 6);
        }
    }

    @Test
    void refusesAnotherShapeOrType() {
        try (NDManager m = NDManager.newBaseManager()) {
            NDArray target = m.zeros(new Shape(2, 3));
            assertThatThrownBy(() -> NativeCopy.into(target, m.zeros(new Shape(3, 2))))
                    .hasMessageContaining("cannot copy float32(3, 2) into float32(2, 3)");
            assertThatThrownBy(() -> NativeCopy.into(target, m.zeros(new Shape(2, 3), DataType.FLOAT16)))
                    .hasMessageContaining("float16");
        }
    }
}
