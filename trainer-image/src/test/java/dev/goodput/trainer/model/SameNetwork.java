package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.loop.Losses;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Whether two builds of a network on 1x28x28 images are the same network computed differently (a layout, an order of
 * commuting ops): the same parameter names, and from the same values the same logits and gradients on one batch.
 */
final class SameNetwork {
    private SameNetwork() {}

    /**
     * Initialises both, copies {@code ours}' values into {@code reference}, runs one forward and backward of each on a
     * random batch, and asserts logits within {@code tolerance} and gradients within {@code tolerance} times their
     * largest magnitude (at least 1).
     */
    static void assertSameFunction(NDManager m, Block ours, Block reference, int batch, double tolerance) {
        Shape input = new Shape(1, 1, 28, 28);
        ours.initialize(m, DataType.FLOAT32, input);
        reference.initialize(m, DataType.FLOAT32, input);
        List<String> names = ours.getParameters().keys();
        assertThat(names).as("the parameter names a checkpoint holds").containsExactlyElementsOf(reference.getParameters().keys());
        Map<String, Parameter> theirs = new HashMap<>();
        for (Pair<String, Parameter> p : reference.getParameters()) theirs.put(p.getKey(), p.getValue());
        for (Pair<String, Parameter> p : ours.getParameters()) {
            NativeCopy.into(theirs.get(p.getKey()).getArray(), p.getValue().getArray());
        }

        NDArray x = m.randomNormal(new Shape(batch, 1, 28, 28));
        NDArray y = m.randomInteger(0, 10, new Shape(batch), DataType.INT64);
        float[] ourLogits = step(m, ours, x, y);
        float[] theirLogits = step(m, reference, x, y);
        assertThat(maxDifference(ourLogits, theirLogits)).as("logits").isLessThan(tolerance);
        for (String name : names) {
            if (!ours.getParameters().get(name).requiresGradient()) continue; // BatchNorm's running statistics
            float[] g1 = ours.getParameters().get(name).getArray().getGradient().toFloatArray();
            float[] g2 = theirs.get(name).getArray().getGradient().toFloatArray();
            double scale = 0;
            for (float v : g2) scale = Math.max(scale, Math.abs(v));
            assertThat(maxDifference(g1, g2)).as("gradient of %s", name).isLessThanOrEqualTo(tolerance * Math.max(1, scale));
        }
    }

    private static float[] step(NDManager m, Block block, NDArray x, NDArray y) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray logits = block.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            gc.backward(Losses.crossEntropy(logits, y));
            return logits.toFloatArray();
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double d = 0;
        for (int i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
        return d;
    }
}
