package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.types.Shape;
import dev.goodput.api.spec.ModelSpec;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TuningKeyTest {
    static ModelSpec cnn() {
        ModelSpec m = new ModelSpec();
        m.architecture = "cnn";
        m.width = 32;
        return m;
    }

    @Test
    void theDefaultMarginKeepsTheShortKeyAndAnotherMarginGetsItsOwn() {
        Shape x = new Shape(1, 28, 28);
        assertThat(TuningKey.of(cnn(), x, "fp32", "cpu", 1L << 30, 0.10).text()).isEqualTo("cnn-w32.1x28x28.fp32.cpu.1073741824");
        assertThat(TuningKey.of(cnn(), x, "fp32", "cpu", 1L << 30, 0.05).text()).isEqualTo("cnn-w32.1x28x28.fp32.cpu.1073741824.m5");
        assertThat(TuningKey.of(cnn(), x, "fp16", "gpu", 1L << 30, 0.10).text()).isNotEqualTo(
                TuningKey.of(cnn(), x, "fp32", "gpu", 1L << 30, 0.10).text());
    }

    @Test
    void aResultTunedWithOneMarginIsNotHandedToAJobWithAnother(@TempDir Path dir) throws Exception {
        Shape x = new Shape(1, 28, 28);
        TuningCache cache = new TuningCache(dir);
        cache.store(TuningKey.of(cnn(), x, "fp32", "cpu", 1L << 30, 0.10), 200);
        assertThat(cache.lookup(TuningKey.of(cnn(), x, "fp32", "cpu", 1L << 30, 0.10))).hasValue(200);
        assertThat(cache.lookup(TuningKey.of(cnn(), x, "fp32", "cpu", 1L << 30, 0.05))).isEmpty();
    }
}
