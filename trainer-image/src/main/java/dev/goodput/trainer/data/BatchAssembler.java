package dev.goodput.trainer.data;

import dev.goodput.api.spec.DataSpec;
import java.util.SplittableRandom;

/**
 * Gathers examples into one contiguous float batch: normalise, and on training batches apply the augmentation. Pure
 * and thread-safe, so loader workers can run it in parallel; randomness comes from (seed, epoch, example) alone so a
 * batch is the same whichever worker builds it and whether or not the run was resumed.
 */
public final class BatchAssembler {
    private final ExampleSet set;
    private final Normalization norm;
    private final int cropPadding;
    private final boolean flip;
    private final long seed;

    public BatchAssembler(ExampleSet set, Normalization norm, DataSpec.AugmentSpec augment, long seed) {
        this.set = set;
        this.norm = norm;
        this.cropPadding = augment == null || augment.randomCropPadding == null || !set.isImage() ? 0 : augment.randomCropPadding;
        this.flip = augment != null && Boolean.TRUE.equals(augment.horizontalFlip) && set.isImage();
        this.seed = seed;
    }

    public ExampleSet examples() {
        return set;
    }

    public Normalization normalization() {
        return norm;
    }

    public HostBatch assemble(int[] order, int from, int count, int epoch, boolean augment) {
        if (set.isText()) return tokens(order, from, count);
        int len = set.exampleLength();
        float[] x = new float[count * len];
        long[] y = new long[count];
        for (int b = 0; b < count; b++) {
            int n = order == null ? from + b : order[from + b];
            y[b] = set.labels()[n];
            if (augment && (cropPadding > 0 || flip)) {
                SplittableRandom rnd = new SplittableRandom(EpochOrder.mix(EpochOrder.mix(seed, epoch), n));
                int dy = cropPadding > 0 ? rnd.nextInt(2 * cropPadding + 1) - cropPadding : 0;
                int dx = cropPadding > 0 ? rnd.nextInt(2 * cropPadding + 1) - cropPadding : 0;
                boolean mirror = flip && rnd.nextBoolean();
                copyShifted(n, x, b * len, dy, dx, mirror);
            } else {
                copy(n, x, b * len);
            }
        }
        return new HostBatch(x, y, count);
    }

    /**
     * Token ids, padded to the batch's longest example rounded up to a multiple of 8 (or to the full sequence length
     * when the spec asks for fixed shapes): most snippets are far shorter than the sequence length, and attention's
     * cost grows with the square of the padded length. The cut is a function of the batch's examples alone, so a
     * resumed run sees the same shapes.
     */
    private HostBatch tokens(int[] order, int from, int count) {
        ExampleSet.Tokens t = set.tokens();
        int full = set.width();
        int width = full;
        if (t.padBatchToLongest()) {
            int longest = 1;
            for (int b = 0; b < count; b++) longest = Math.max(longest, t.lengths()[order == null ? from + b : order[from + b]]);
            width = Math.min(full, (longest + 7) / 8 * 8);
        }
        float[] x = new float[count * width];
        long[] y = new long[count];
        for (int b = 0; b < count; b++) {
            int n = order == null ? from + b : order[from + b];
            y[b] = set.labels()[n];
            System.arraycopy(set.features(), n * full, x, b * width, width);
        }
        return new HostBatch(x, y, count);
    }

    private void copy(int n, float[] dst, int off) {
        int len = set.exampleLength();
        int plane = set.isImage() ? set.height() * set.width() : 1;
        for (int i = 0; i < len; i++) {
            int c = set.isImage() ? i / plane : i;
            dst[off + i] = (set.raw(n, i) - norm.mean()[c]) / norm.std()[c];
        }
    }

    /** Translate by (dy, dx) with zero (mean) padding and optionally mirror: the padded random crop. */
    private void copyShifted(int n, float[] dst, int off, int dy, int dx, boolean mirror) {
        int h = set.height();
        int w = set.width();
        for (int c = 0; c < set.channels(); c++) {
            float mean = norm.mean()[c];
            float std = norm.std()[c];
            for (int r = 0; r < h; r++) {
                int sr = r + dy;
                for (int col = 0; col < w; col++) {
                    int sc = (mirror ? w - 1 - col : col) + dx;
                    float v = sr < 0 || sr >= h || sc < 0 || sc >= w ? mean : set.raw(n, c * h * w + sr * w + sc);
                    dst[off + c * h * w + r * w + col] = (v - mean) / std;
                }
            }
        }
    }
}
