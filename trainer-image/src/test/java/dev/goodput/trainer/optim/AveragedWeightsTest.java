package dev.goodput.trainer.optim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.util.PairList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The moving average of spec.training.emaDecay: the recurrence computed by hand, the swap that evaluation and export
 * use, and the checkpointed state.
 */
class AveragedWeightsTest {
    static final float[] W0 = {1f, -2f, 3f, 0.5f};
    static final float[] C = {0.3f, -1.2f, 2.5f, -0.05f};
    static final float[] RUNNING = {0.25f, 4f};
    NDManager manager;
    Parameter weight;
    Parameter running;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
        weight = Parameter.builder().setName("w").setType(Parameter.Type.WEIGHT).optRequiresGrad(true).build();
        NDArray w = manager.create(W0.clone());
        w.setRequiresGradient(true);
        weight.setArray(w);
        // As BatchNorm's running statistics: part of the model, not trained, averaged too.
        running = Parameter.builder().setName("runningMean").setType(Parameter.Type.RUNNING_MEAN).optRequiresGrad(false).build();
        running.setArray(manager.create(RUNNING.clone()));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private PairList<String, Parameter> model() {
        PairList<String, Parameter> all = new PairList<>();
        all.add("w", weight);
        all.add("runningMean", running);
        return all;
    }

    /** d/dw sum(w * c) = c: every step's gradient is exactly C. */
    private List<TrainableParameter> backward() {
        NDArray w = weight.getArray();
        try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            gc.backward(w.mul(manager.create(C)).sum());
        }
        return List.of(new TrainableParameter("w", w, w.getGradient()));
    }

    @ParameterizedTest(name = "decay {0} after {1} updates: {2}")
    @CsvSource({"0.99, 0, 0.1", "0.99, 1, 0.181818", "0.99, 8, 0.5", "0.99, 890, 0.99", "0.99, 100000, 0.99",
            "0.5, 0, 0.1", "0.5, 8, 0.5", "0.5, 50, 0.5"})
    void theDecayRisesFromTheFirstUpdatesToTheSetting(double decay, long updates, double expected) {
        assertThat(AveragedWeights.decayAt(decay, updates)).isCloseTo(expected, within(1e-6));
    }

    @Test
    void afterEveryStepTheAverageMovesTowardTheWeights() {
        double lr = 0.1, decay = 0.9;
        AveragedWeights ema = new AveragedWeights(new Sgd(manager, 0, false, 0), decay, model(), manager);
        double[] w = toDouble(W0);
        double[] avg = toDouble(W0);
        double[] runningAvg = toDouble(RUNNING);
        for (int t = 1; t <= 4; t++) {
            ema.step(backward(), lr, 1f);
            JniUtils.zeroGrad((PtNDArray) weight.getArray());
            double d = AveragedWeights.decayAt(decay, t);
            for (int i = 0; i < w.length; i++) {
                w[i] -= lr * C[i];
                avg[i] = d * avg[i] + (1 - d) * w[i];
            }
            for (int i = 0; i < runningAvg.length; i++) runningAvg[i] = d * runningAvg[i] + (1 - d) * RUNNING[i];
            assertClose(weight.getArray().toFloatArray(), w);
            assertClose(ema.state().get("average/w").toFloatArray(), avg);
            assertClose(ema.state().get("average/runningMean").toFloatArray(), runningAvg);
        }
        assertThat(ema.stepCount()).isEqualTo(4);
    }

    @Test
    void evaluationSeesTheAverageAndTrainingGetsItsWeightsBack() {
        AveragedWeights ema = new AveragedWeights(new Sgd(manager, 0, false, 0), 0.5, model(), manager);
        for (int t = 0; t < 3; t++) {
            ema.step(backward(), 0.1, 1f);
            JniUtils.zeroGrad((PtNDArray) weight.getArray());
        }
        float[] trained = weight.getArray().toFloatArray();
        float[] average = ema.state().get("average/w").toFloatArray();
        assertThat(average).isNotEqualTo(trained);
        NDArray live = weight.getArray();
        try (AveragedWeights.Swap swapped = AveragedWeights.inPlaceOfWeights(ema)) {
            assertThat(weight.getArray()).as("the same array, its values swapped").isSameAs(live);
            assertThat(weight.getArray().toFloatArray()).containsExactly(average);
        }
        assertThat(weight.getArray().toFloatArray()).containsExactly(trained);
        try (AveragedWeights.Swap none = AveragedWeights.inPlaceOfWeights(new Sgd(manager, 0, false, 0))) {
            assertThat(weight.getArray().toFloatArray()).as("no average: the weights").containsExactly(trained);
        }
    }

    @Test
    void aCheckpointCarriesTheAverageWithTheInnerOptimizersState() {
        AveragedWeights ema = new AveragedWeights(new AdamW(manager, 0.9, 0.999, 1e-8, 0), 0.9, model(), manager);
        for (int t = 0; t < 3; t++) {
            ema.step(backward(), 0.01, 1f);
            JniUtils.zeroGrad((PtNDArray) weight.getArray());
        }
        assertThat(ema.state()).containsOnlyKeys("m/w", "v/w", "average/w", "average/runningMean");
        Map<String, NDArray> saved = new LinkedHashMap<>();
        ema.state().forEach((k, v) -> saved.put(k, v.duplicate()));

        AveragedWeights resumed = new AveragedWeights(new AdamW(manager, 0.9, 0.999, 1e-8, 0), 0.9, model(), manager);
        resumed.restore(saved);
        assertThat(resumed.state().get("average/w").toFloatArray()).containsExactly(saved.get("average/w").toFloatArray());
        assertThat(resumed.state().get("m/w").toFloatArray()).containsExactly(saved.get("m/w").toFloatArray());

        // A checkpoint written before emaDecay was set: the average starts from the restored weights.
        AveragedWeights fresh = new AveragedWeights(new AdamW(manager, 0.9, 0.999, 1e-8, 0), 0.9, model(), manager);
        weight.getArray().set(new ai.djl.ndarray.index.NDIndex("..."), manager.create(new float[] {7f, 7f, 7f, 7f}));
        fresh.restore(Map.of("m/w", saved.get("m/w"), "v/w", saved.get("v/w")));
        assertThat(fresh.state().get("average/w").toFloatArray()).containsExactly(7f, 7f, 7f, 7f);

    }

    @Test
    void frozenArraysAreNotAveraged() {
        Parameter frozen = Parameter.builder().setName("base").setType(Parameter.Type.WEIGHT).optRequiresGrad(false).build();
        frozen.setArray(manager.create(new float[] {5f, 6f}));
        PairList<String, Parameter> all = model();
        all.add("base", frozen);
        AveragedWeights ema = new AveragedWeights(new Sgd(manager, 0, false, 0), 0.9, all, manager);
        assertThat(ema.state()).containsOnlyKeys("average/w", "average/runningMean");
        // A checkpoint with an average of it (written while it trained) restores without it.
        ema.restore(Map.of("average/base", manager.create(new float[] {1f, 1f})));
        assertThat(frozen.getArray().toFloatArray()).containsExactly(5f, 6f);
    }

    @Test
    void aDecayOutsideZeroToOneIsRefused() {
        assertThatThrownBy(() -> new AveragedWeights(new Sgd(manager, 0, false, 0), 1.0, model(), manager))
                .hasMessageContaining("emaDecay must be in (0, 1)");
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static void assertClose(float[] actual, double[] expected) {
        for (int i = 0; i < expected.length; i++) assertThat((double) actual[i]).isCloseTo(expected[i], within(1e-5));
    }
}
