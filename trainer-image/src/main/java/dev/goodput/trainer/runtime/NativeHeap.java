package dev.goodput.trainer.runtime;

import com.sun.jna.Function;
import com.sun.jna.NativeLibrary;

/**
 * Keeps the memory libtorch frees inside the process, so that the next training step reuses it instead of taking
 * fresh pages from the kernel.
 *
 * <p>Every step allocates and frees the same activations and gradients (about 30 MB for the CNN at batch 128). With
 * glibc's defaults a freed block above the mmap threshold is unmapped, and a free heap top above the trim threshold is
 * handed back to the kernel; both thresholds adapt only partly, and DJL calls libtorch from a JVM thread, which
 * allocates from a secondary arena. So each step page-faults much of its working set again: about 7,000 minor faults
 * per CNN b128 step, 100 with the settings below, and the step 20 % faster. The cost is that the process keeps its peak
 * native heap until it exits, which a training process reaches again on every step anyway.
 *
 * <p>Blocks above 32 MiB (glibc's ceiling for the mmap threshold) are still mapped per allocation.
 */
public final class NativeHeap {
    // mallopt parameters, from glibc's malloc.h.
    static final int M_TRIM_THRESHOLD = -1;
    static final int M_TOP_PAD = -2;
    static final int M_MMAP_THRESHOLD = -3;

    static final int MMAP_THRESHOLD = 32 << 20;
    static final int TRIM_THRESHOLD = Integer.MAX_VALUE;
    /** How much more than asked the heap grows by: growing in large steps stops the per-step growth and trim churn. */
    static final int TOP_PAD = 64 << 20;
    /** glibc's initial mmap and trim thresholds (128 KiB). */
    static final int DEFAULT_THRESHOLD = 128 << 10;

    private NativeHeap() {}

    /**
     * Applies the settings; returns false where the C library is not glibc (mallopt missing, or musl's, which accepts
     * nothing), and the allocator then keeps its defaults.
     */
    public static boolean retainFreedMemory() {
        return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
                && mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
                && mallopt(M_TOP_PAD, TOP_PAD);
    }

    /**
     * Back to glibc's default behaviour (its initial thresholds, fixed rather than adaptive): large blocks are mapped
     * per allocation and a free heap top is trimmed, so freed memory leaves the resident set at once; what is kept so
     * far is handed back too ({@code malloc_trim}). The batch tuner probes in this mode: a probe measures the resident
     * set, which must not include what an earlier, larger probe left behind, and a probe that went over the budget
     * must not leave the process over it. ({@code malloc_trim} alone cannot: it does not shrink a secondary arena's
     * top, where the threads that call libtorch allocate.)
     */
    public static boolean returnFreedMemory() {
        boolean set = mallopt(M_MMAP_THRESHOLD, DEFAULT_THRESHOLD)
                && mallopt(M_TRIM_THRESHOLD, DEFAULT_THRESHOLD)
                && mallopt(M_TOP_PAD, 0);
        if (set) {
            NativeLibrary.getInstance("c").getFunction("malloc_trim").invokeInt(new Object[] {0L});
        }
        return set;
    }

    /** glibc's mallopt: true when the C library accepted the value. */
    static boolean mallopt(int param, int value) {
        Function f;
        try {
            f = NativeLibrary.getInstance("c").getFunction("mallopt");
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
        return f.invokeInt(new Object[] {param, value}) == 1;
    }
}
