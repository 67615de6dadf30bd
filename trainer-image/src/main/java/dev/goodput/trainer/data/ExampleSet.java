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
 * @param tokens   for tokenized text, where each example's tokens end (its {@code features} are token ids); null otherwise
 */
public record ExampleSet(byte[] pixels, float[] features, int[] labels, int channels, int height, int width, int classes,
                         Tokens tokens) {

    /**
     * Tokenized text: each example is {@code width} token ids held as floats (exact below 2^24; vocabularies are far
     * smaller), so batching, shuffling, accumulation and the data position work as for any feature vector; the
     * text model casts them back to integers. {@code lengths[n]} counts example n's tokens before the padding.
     */
    public record Tokens(int padId, int[] lengths, boolean padBatchToLongest) {}

    public ExampleSet(byte[] pixels, float[] features, int[] labels, int channels, int height, int width, int classes) {
        this(pixels, features, labels, channels, height, width, classes, null);
    }

    public boolean isText() {
        return tokens != null;
    }

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

    /** The same examples with {@code classes} classes (a split that lacks the last classes still has their logits). */
    public ExampleSet withClasses(int classes) {
        return new ExampleSet(pixels, features, labels, channels, height, width, classes, tokens);
    }

    /**
     * For the batch tuner: text whose every batch is as wide as the widest batch the run can meet (each example counted
     * as long as the longest), so a probe measures the worst case, not whatever lengths its batches happened to have.
     * Other data is returned as it is.
     */
    public ExampleSet atWidestBatches() {
        if (tokens == null) return this;
        int longest = java.util.Arrays.stream(tokens.lengths()).max().orElse(width);
        int[] all = new int[tokens.lengths().length];
        java.util.Arrays.fill(all, longest);
        return new ExampleSet(pixels, features, labels, channels, height, width, classes,
                new Tokens(tokens.padId(), all, tokens.padBatchToLongest()));
    }

    /** Tokens in the widest batch the run can meet: the longest example rounded up to 8, or the full length. */
    public int widestBatch() {
        if (tokens == null || !tokens.padBatchToLongest()) return width;
        int longest = java.util.Arrays.stream(tokens.lengths()).max().orElse(width);
        return Math.min(width, (longest + 7) / 8 * 8);
    }

    public ExampleSet slice(int limit) {
        if (limit >= size()) return this;
        int len = exampleLength() * limit;
        byte[] p = pixels == null ? null : java.util.Arrays.copyOf(pixels, len);
        float[] f = features == null ? null : java.util.Arrays.copyOf(features, len);
        Tokens t = tokens == null ? null
                : new Tokens(tokens.padId(), java.util.Arrays.copyOf(tokens.lengths(), limit), tokens.padBatchToLongest());
        return new ExampleSet(p, f, java.util.Arrays.copyOf(labels, limit), channels, height, width, classes, t);
    }
}
