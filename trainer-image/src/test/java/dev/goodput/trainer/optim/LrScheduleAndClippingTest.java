package dev.goodput.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import java.util.List;
import org.junit.jupiter.api.Test;

class LrScheduleAndClippingTest {

    @Test
    void cosineWithWarmup() {
        LrSchedule s = new LrSchedule("cosine", 0.1, 10, 110, 0.0);
        assertThat(s.lr(0)).isCloseTo(0.01, within(1e-12));
        assertThat(s.lr(4)).isCloseTo(0.05, within(1e-12));
        assertThat(s.lr(9)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(10)).isCloseTo(0.1, within(1e-12));
        assertThat(s.lr(60)).isCloseTo(0.05, within(1e-12)); // half-way through the decay
        assertThat(s.lr(110)).isCloseTo(0.0, within(1e-12));
        assertThat(s.lr(500)).isCloseTo(0.0, within(1e-12));
    }

    @Test
    void linearAndConstantAndMinimum() {
        LrSchedule lin = new LrSchedule("linear", 1.0, 0, 100, 0.1);
        assertThat(lin.lr(0)).isCloseTo(1.0, within(1e-12));
        assertThat(lin.lr(50)).isCloseTo(0.55, within(1e-12));
        assertThat(lin.lr(100)).isCloseTo(0.1, within(1e-12));
        LrSchedule constant = new LrSchedule("constant", 0.3, 5, 100, 0.0);
        assertThat(constant.lr(2)).isCloseTo(0.18, within(1e-12));
        assertThat(constant.lr(99)).isCloseTo(0.3, within(1e-12));
    }

    @Test
    void oneCycleRisesThenFalls() {
        LrSchedule s = new LrSchedule("onecycle", 1.0, 30, 100, 1e-4);
        assertThat(s.lr(0)).isCloseTo(0.04, within(1e-12));
        assertThat(s.lr(30)).isCloseTo(1.0, within(1e-12));
        assertThat(s.lr(15)).isCloseTo(0.52, within(1e-12));
        assertThat(s.lr(100)).isCloseTo(1e-4, within(1e-12));
    }

    @Test
    void clippingGivesTheRequestedGlobalNorm() {
        try (NDManager m = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch")) {
            // Two gradients with global norm sqrt(3^2 + 4^2 + 12^2) = 13.
            List<TrainableParameter> params = List.of(
                    new TrainableParameter("a", m.create(new float[] {0, 0}), m.create(new float[] {3, 4})),
                    new TrainableParameter("b", m.create(new float[] {0}), m.create(new float[] {12})));
            double norm = GradientClipper.globalNorm(params, 1f);
            assertThat(norm).isCloseTo(13, within(1e-5));
            float f = GradientClipper.factor(norm, 6.5);
            assertThat(GradientClipper.globalNorm(params, f)).isCloseTo(6.5, within(1e-5));
            // Direction is kept: every element is scaled by the same factor.
            assertThat(f).isCloseTo(0.5f, within(1e-6f));
            assertThat(GradientClipper.factor(norm, 20)).isEqualTo(1f);
            assertThat(GradientClipper.globalNorm(params, 0.5f)).isCloseTo(6.5, within(1e-5));
        }
    }
}
