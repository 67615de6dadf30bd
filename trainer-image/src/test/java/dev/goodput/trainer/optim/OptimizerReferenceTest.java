package dev.goodput.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The optimizers against the update rules of torch.optim, computed by hand in double precision. */
class OptimizerReferenceTest {
    static final float[] W0 = {1f, -2f, 3f, 0.5f};
    static final float[] C = {0.3f, -1.2f, 2.5f, -0.05f};
    NDManager manager;
    NDArray w;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        w = manager.create(W0.clone());
        w.setRequiresGradient(true);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** d/dw sum(w * c) = c, so every step's gradient is exactly C. */
    private List<TrainableParameter> backward() {
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(w.mul(manager.create(C)).sum());
        }
        return List.of(new TrainableParameter("w", w, w.getGradient()));
    }

    @Test
    void adamWMatchesTorchAdamW() {
        double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 0.1, wd = 0.2;
        float scale = 0.5f;
        AdamW adam = new AdamW(manager, b1, b2, eps, wd);
        double[] ref = toDouble(W0);
        double[] m = new double[4];
        double[] v = new double[4];
        for (int t = 1; t <= 3; t++) {
            adam.step(backward(), lr, scale);
            JniUtils.zeroGrad((PtNDArray) w);
            for (int i = 0; i < 4; i++) {
                double g = C[i] * scale;
                ref[i] *= 1 - lr * wd;
                m[i] = b1 * m[i] + (1 - b1) * g;
                v[i] = b2 * v[i] + (1 - b2) * g * g;
                double mHat = m[i] / (1 - Math.pow(b1, t));
                double vHat = v[i] / (1 - Math.pow(b2, t));
                ref[i] -= lr * mHat / (Math.sqrt(vHat) + eps);
            }
            assertClose(w.toFloatArray(), ref);
        }
        assertThat(adam.stepCount()).isEqualTo(3);
        assertThat(adam.state()).containsOnlyKeys("m/w", "v/w");
    }

    @Test
    void sgdNesterovMatchesTorchSgd() {
        double lr = 0.1, mom = 0.9, wd = 0.05;
        Sgd sgd = new Sgd(manager, mom, true, wd);
        double[] ref = toDouble(W0);
        double[] buf = null;
        for (int t = 1; t <= 3; t++) {
            sgd.step(backward(), lr, 1f);
            JniUtils.zeroGrad((PtNDArray) w);
            double[] g = new double[4];
            for (int i = 0; i < 4; i++) g[i] = C[i] + wd * ref[i];
            if (buf == null) buf = g.clone();
            else for (int i = 0; i < 4; i++) buf[i] = mom * buf[i] + g[i];
            for (int i = 0; i < 4; i++) ref[i] -= lr * (g[i] + mom * buf[i]);
            assertClose(w.toFloatArray(), ref);
        }
    }

    @Test
    void sgdMomentumWithGradientScale() {
        double lr = 0.05, mom = 0.5;
        Sgd sgd = new Sgd(manager, mom, false, 0);
        double[] ref = toDouble(W0);
        double[] buf = new double[4];
        for (int t = 1; t <= 3; t++) {
            sgd.step(backward(), lr, 0.25f);
            JniUtils.zeroGrad((PtNDArray) w);
            for (int i = 0; i < 4; i++) {
                buf[i] = t == 1 ? 0.25 * C[i] : mom * buf[i] + 0.25 * C[i];
                ref[i] -= lr * buf[i];
            }
            assertClose(w.toFloatArray(), ref);
        }
    }

    @Test
    void stateRestoresIntoAFreshOptimizerAndContinuesIdentically() {
        AdamW a = new AdamW(manager, 0.9, 0.999, 1e-8, 0.01);
        a.step(backward(), 0.01, 1f);
        JniUtils.zeroGrad((PtNDArray) w);
        float[] afterOne = w.toFloatArray();
        AdamW b = new AdamW(manager, 0.9, 0.999, 1e-8, 0.01);
        b.restore(a.state());
        b.restoreStepCount(a.stepCount());
        NDArray w2 = manager.create(afterOne);
        w2.setRequiresGradient(true);
        a.step(backward(), 0.01, 1f);
        NDArray saved = w;
        w = w2;
        b.step(backward(), 0.01, 1f);
        assertThat(w2.toFloatArray()).isEqualTo(saved.toFloatArray());
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static void assertClose(float[] actual, double[] expected) {
        for (int i = 0; i < actual.length; i++) {
            assertThat((double) actual[i]).as("element %d", i).isCloseTo(expected[i], within(1e-6));
        }
    }
}
