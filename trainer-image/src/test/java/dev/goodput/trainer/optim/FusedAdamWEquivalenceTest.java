package dev.goodput.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * AdamW's fused update against the per-parameter update it replaced (DJL's native adamUpdate with the bias correction
 * folded into the step size and eps * sqrt(1 - beta2^t), as AdamW called it before): same parameters and m to 1e-6,
 * step after step, with weight decay, gradient scaling and parameters of several shapes. v is compared with
 * torch.optim.AdamW's rule in double precision instead: adamUpdate takes beta2 as a float and forms 1 - beta2 in float
 * (0.0009999871 for 0.999), so its v is 1.3e-5 (relative) below torch's; the fused kernel's is not.
 */
class FusedAdamWEquivalenceTest {
    static final Shape[] SHAPES = {new Shape(32, 1, 3, 3), new Shape(32), new Shape(10, 128), new Shape(70_000)};
    static final double[] GRAD_STD = {1e-3, 1e-2, 0.3, 0.05};
    NDManager manager;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        JniUtils.setSeed(7);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @ParameterizedTest
    @CsvSource({
        // lr, beta1, beta2, eps, weight decay, gradient scale
        "1e-3, 0.9, 0.999, 1e-8, 0.01, 1",
        "1e-2, 0.8, 0.99, 0.1, 0.2, 0.25",   // a large eps: where it is added (corrected sqrt(v) or not) shows
        "3e-4, 0.9, 0.999, 1e-6, 0, 2",
    })
    void matchesThePerParameterUpdate(double lr, double b1, double b2, double eps, double wd, float gradScale) {
        List<NDArray> fusedW = new ArrayList<>();
        List<NDArray> refW = new ArrayList<>();
        List<NDArray> refM = new ArrayList<>();
        List<NDArray> refV = new ArrayList<>();
        List<double[]> exactV = new ArrayList<>();
        for (Shape s : SHAPES) {
            // Initialisation-sized weights: at |w| ~ 4 one float32 ulp is already 5e-7.
            NDArray w = manager.randomNormal(s).mul(0.1f);
            fusedW.add(w);
            refW.add(w.duplicate());
            refM.add(manager.zeros(s));
            refV.add(manager.zeros(s));
            exactV.add(new double[Math.toIntExact(s.size())]);
        }
        AdamW adam = new AdamW(manager, b1, b2, eps, wd);
        for (int t = 1; t <= 6; t++) {
            List<TrainableParameter> params = new ArrayList<>();
            List<NDArray> grads = new ArrayList<>();
            for (int i = 0; i < SHAPES.length; i++) {
                // Gradients of different sizes (std 1e-3 to 0.3), so that m / (sqrt(v) + eps) is dominated by eps in some
                // parameters and not in others: where eps is added (to the corrected sqrt(v) or not) changes the result.
                NDArray g = manager.randomNormal(SHAPES[i]).mul(GRAD_STD[i]);
                grads.add(g);
                params.add(new TrainableParameter("p" + i, fusedW.get(i), g.duplicate()));
            }
            adam.step(params, lr, gradScale);
            float bc1 = (float) (1 - Math.pow((float) b1, t));
            float bc2 = (float) (1 - Math.pow((float) b2, t));
            for (int i = 0; i < SHAPES.length; i++) {
                JniUtils.adamUpdate((PtNDArray) refW.get(i), (PtNDArray) grads.get(i), (PtNDArray) refM.get(i),
                        (PtNDArray) refV.get(i), (float) lr, (float) (lr * Math.sqrt(bc2) / bc1), (float) wd, gradScale,
                        -1f, (float) b1, (float) b2, (float) (eps * Math.sqrt(bc2)), true);
            }
            Map<String, NDArray> state = adam.state();
            for (int i = 0; i < SHAPES.length; i++) {
                assertMaxDifference(fusedW.get(i), refW.get(i), "w" + i + " at step " + t);
                assertMaxDifference(state.get("m/p" + i), refM.get(i), "m" + i + " at step " + t);
                assertRelativeDifference(state.get("v/p" + i), refV.get(i), 2e-5, "v" + i + " vs adamUpdate at step " + t);
                double[] exact = exactV.get(i);
                float[] g = grads.get(i).toFloatArray();
                for (int j = 0; j < exact.length; j++) {
                    double gs = (double) g[j] * gradScale;
                    exact[j] = b2 * exact[j] + (1 - b2) * gs * gs;
                }
                float[] fused = state.get("v/p" + i).toFloatArray();
                for (int j = 0; j < exact.length; j++) {
                    assertThat((double) fused[j]).as("v%d[%d] at step %d", i, j, t)
                            .isCloseTo(exact[j], within(1e-6 * exact[j] + 1e-30));
                }
            }
        }
        assertThat(adam.stepCount()).isEqualTo(6);
    }

    private static void assertMaxDifference(NDArray actual, NDArray expected, String what) {
        float diff = actual.sub(expected).abs().max().getFloat();
        assertThat(diff).as(what).isLessThanOrEqualTo(1e-6f);
    }

    private static void assertRelativeDifference(NDArray actual, NDArray expected, double tolerance, String what) {
        float diff = actual.sub(expected).abs().div(expected.abs().add(1e-30f)).max().getFloat();
        assertThat(diff).as(what).isLessThanOrEqualTo((float) tolerance);
    }
}
