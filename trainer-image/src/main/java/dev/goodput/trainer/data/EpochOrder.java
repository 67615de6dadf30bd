package dev.goodput.trainer.data;

import java.util.SplittableRandom;

/**
 * The order examples are visited in one epoch: a permutation derived only from (seed, epoch), so a resumed run can
 * rebuild it from the two numbers in a checkpoint instead of storing it.
 */
public final class EpochOrder {
    private EpochOrder() {}

    public static int[] permutation(long seed, int epoch, int size) {
        int[] p = new int[size];
        for (int i = 0; i < size; i++) p[i] = i;
        SplittableRandom rnd = new SplittableRandom(mix(seed, epoch));
        for (int i = size - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** A well-spread 64-bit value from two inputs (SplitMix64 finaliser), for per-epoch and per-example seeds. */
    public static long mix(long a, long b) {
        long z = a * 0x9E3779B97F4A7C15L + b + 0x632BE59BD9B4E019L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
