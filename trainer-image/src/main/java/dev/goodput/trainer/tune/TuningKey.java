package dev.goodput.trainer.tune;

import ai.djl.ndarray.types.Shape;
import dev.goodput.api.spec.ModelSpec;
import java.util.Locale;

/**
 * What a tuned micro-batch depends on, which is what the probe runs: the model and its size, the input shape, the
 * precision, the step (optimizer, clipping, the loader's workers and prefetch), the device type and the memory budget.
 * Jobs with the same key can reuse one tuning result. The text form is a valid ConfigMap key ({@code [-._a-zA-Z0-9]+}),
 * so the operator can keep results in a ConfigMap and mount it as a folder of files. The default 10 % margin adds
 * nothing to it, so that the keys of default jobs stay short.
 */
public record TuningKey(String model, Shape example, String precision, String step, String device, long budgetBytes,
                        double margin) {
    public static final double DEFAULT_MARGIN = 0.10;

    public static TuningKey of(ModelSpec m, Shape example, String precision, String step, String device, long budgetBytes,
                               double margin) {
        if (!ModelSpec.builtIn(m.architecture)) {
            // Weights from a file, adapters, frozen parameters: all of spec.model, hashed to stay a short key.
            return new TuningKey(m.architecture + "-" + specHash(m), example, precision, step, device, budgetBytes, margin);
        }
        StringBuilder model = new StringBuilder(m.architecture);
        if (m.width != null) model.append("-w").append(m.width);
        if (m.hiddenLayers != null) model.append("-h").append(String.join("x", m.hiddenLayers.stream().map(String::valueOf).toList()));
        return new TuningKey(model.toString(), example, precision, step, device, budgetBytes, margin);
    }

    static String specHash(ModelSpec m) {
        try {
            byte[] json = new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsBytes(m);
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(json), 0, 6);
        } catch (java.io.IOException | java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The step's part of the key: {@code adamw-l1x4} (one loader worker, 4 batches ahead), {@code sgd-clip-l2x8}. */
    public static String step(String optimizer, boolean clipping, int workers, int prefetch) {
        return optimizer + (clipping ? "-clip" : "") + "-l" + workers + "x" + prefetch;
    }

    /** e.g. {@code cnn-w32.1x28x28.fp32.adamw-l1x4.cpu.1468006400}. */
    public String text() {
        StringBuilder shape = new StringBuilder();
        for (int i = 0; i < example.dimension(); i++) {
            if (i > 0) shape.append('x');
            shape.append(example.get(i));
        }
        String text = String.join(".", model, shape, precision, step, device, String.valueOf(budgetBytes));
        if (Math.round(margin * 100) != Math.round(DEFAULT_MARGIN * 100)) text += ".m" + Math.round(margin * 100);
        return text.toLowerCase(Locale.ROOT);
    }
}
