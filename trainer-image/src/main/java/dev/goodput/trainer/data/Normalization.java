package dev.goodput.trainer.data;

/** Per-channel mean and standard deviation of the training split, applied to both splits. */
public record Normalization(float[] mean, float[] std) {

    public static Normalization of(ExampleSet train) {
        if (train.isText()) {
            // Token ids are indices, not measurements: they go to the model as they are.
            float[] zeros = new float[train.width()];
            float[] ones = new float[train.width()];
            java.util.Arrays.fill(ones, 1f);
            return new Normalization(zeros, ones);
        }
        int ch = train.channels();
        int plane = train.height() * train.width();
        if (!train.isImage()) {
            // Feature vectors: normalise each feature on its own.
            ch = train.width();
            plane = 1;
        }
        double[] sum = new double[ch];
        double[] sq = new double[ch];
        int len = train.exampleLength();
        for (int n = 0; n < train.size(); n++) {
            for (int i = 0; i < len; i++) {
                int c = train.isImage() ? i / plane : i;
                double v = train.raw(n, i);
                sum[c] += v;
                sq[c] += v * v;
            }
        }
        float[] mean = new float[ch];
        float[] std = new float[ch];
        double count = (double) train.size() * plane;
        for (int c = 0; c < ch; c++) {
            double m = sum[c] / count;
            mean[c] = (float) m;
            std[c] = (float) Math.max(1e-6, Math.sqrt(Math.max(0, sq[c] / count - m * m)));
        }
        return new Normalization(mean, std);
    }
}
