package dev.goodput.trainer.data;

/**
 * Decoded examples held in memory: decode once, then every epoch only gathers and normalises. Pixels stay as bytes
 * (a quarter of the memory of floats) when the source is an image; feature data is kept as floats.
 *
 * @param pixels   8-bit samples, row-major per example (null when {@code features} is used)
 * @param features float samples per example (null when {@code pixels} is used)
 * @param labels   class index per example
 * @param channels channels per example (1 for grey images and for feature vectors)
 * @param height   rows per example (1 for feature vectors)
 * @param width    columns per example (features per row for CSV)
 * @param classes  number of classes
 */
public record ExampleSet(byte[] pixels, float[] features, int[] labels, int channels, int height, int width, int classes) {

    public int size() {
        return labels.length;
    }

    public int exampleLength() {
        return channels * height * width;
    }

    public boolean isImage() {
        return height > 1;
    }

    /** The value of element {@code i} of example {@code n}, before normalisation. */
    public float raw(int n, int i) {
        int off = n * exampleLength() + i;
        return pixels != null ? (pixels[off] & 0xFF) / 255f : features[off];
    }

    public ExampleSet slice(int limit) {
        if (limit >= size()) return this;
        int len = exampleLength() * limit;
        byte[] p = pixels == null ? null : java.util.Arrays.copyOf(pixels, len);
        float[] f = features == null ? null : java.util.Arrays.copyOf(features, len);
        return new ExampleSet(p, f, java.util.Arrays.copyOf(labels, limit), channels, height, width, classes);
    }
}
