package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.Shape;
import dev.goodput.api.spec.ModelSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TuningKeyTest {
    static final String ADAMW = TuningKey.step("adamw", false, 1, 4);
    static ModelSpec cnn() {
        ModelSpec m = new ModelSpec();
        m.architecture = "cnn";
        m.width = 32;
        return m;
    }

    @Test
    void theDefaultMarginKeepsTheShortKeyAndAnotherMarginGetsItsOwn() {
        Shape x = new Shape(1, 28, 28);
        assertThat(TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.10).text()).isEqualTo("cnn-w32.1x28x28.fp32.adamw-l1x4.cpu.1073741824");
        assertThat(TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.05).text()).isEqualTo("cnn-w32.1x28x28.fp32.adamw-l1x4.cpu.1073741824.m5");
        assertThat(TuningKey.of(cnn(), x, "fp16", ADAMW, "gpu", 1L << 30, 0.10).text()).isNotEqualTo(
                TuningKey.of(cnn(), x, "fp32", ADAMW, "gpu", 1L << 30, 0.10).text());
    }

    @Test
    void aResultTunedWithOneMarginIsNotHandedToAJobWithAnother(@TempDir Path dir) throws Exception {
        Shape x = new Shape(1, 28, 28);
        TuningCache cache = new TuningCache(dir);
        cache.store(TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.10), 200);
        assertThat(cache.lookup(TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.10))).hasValue(200);
        assertThat(cache.lookup(TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.05))).isEmpty();
    }

    @Test
    void whatTheProbeRunsIsInTheKey() {
        Shape x = new Shape(1, 28, 28);
        String adamw = TuningKey.of(cnn(), x, "fp32", ADAMW, "cpu", 1L << 30, 0.10).text();
        // The optimizer's state, clipping's temporaries and the loader's buffers are all part of a probe's peak.
        for (String other : new String[] {TuningKey.step("sgd", false, 1, 4), TuningKey.step("adamw", true, 1, 4),
                TuningKey.step("adamw", false, 2, 8)}) {
            assertThat(TuningKey.of(cnn(), x, "fp32", other, "cpu", 1L << 30, 0.10).text()).isNotEqualTo(adamw)
                    .matches("[-._a-zA-Z0-9]+");
        }
        assertThat(TuningKey.step("sgd", true, 2, 8)).isEqualTo("sgd-clip-l2x8");
    }
}
