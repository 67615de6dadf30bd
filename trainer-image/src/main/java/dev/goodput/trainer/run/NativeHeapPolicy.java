package dev.goodput.trainer.run;

import dev.goodput.trainer.runtime.NativeHeap;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Optional;

/**
 * Keeping freed memory (runtime/NativeHeap) costs resident memory beyond the probes' peaks, since each thread's arena
 * keeps its own: under a CPU memory budget it is kept only where the tuned batch's measured peak leaves room.
 * Otherwise training runs in glibc's default mode: freed memory leaves the resident set, at the cost of page faults.
 */
public final class NativeHeapPolicy {
    /** The share of a CPU memory budget the tuned batch's measured peak may use for the heap to keep freed memory. */
    static final double RETAIN_SHARE = 0.7;

    private NativeHeapPolicy() {}

    /** Why freed memory must go back to the kernel, or empty when the heap may keep it. */
    static Optional<String> returnReason(boolean gpu, BatchPlanner.Decision batch) {
        boolean cpuBudget = !gpu && batch.key() != null; // a key exists only for a batch chosen under a budget
        String source = batch.choice().source();
        if (!cpuBudget) return Optional.empty();
        if ("tuned".equals(source)) {
            double share = batch.peakShare().orElse(Double.MAX_VALUE);
            return share <= RETAIN_SHARE ? Optional.empty() : Optional.of(String.format(Locale.ROOT,
                    "the tuned batch's peak is %.0f%% of the budget, over %.0f%%", share * 100, RETAIN_SHARE * 100));
        }
        return Optional.of("the batch was tuned to a CPU memory budget; its peak is unknown from the " + source);
    }

    public static void apply(boolean gpu, BatchPlanner.Decision batch, PrintStream out) {
        Optional<String> why = returnReason(gpu, batch);
        if (why.isEmpty()) {
            NativeHeap.retainFreedMemory();
        } else if (NativeHeap.returnFreedMemory()) {
            out.println("native heap: freed memory goes back to the kernel (" + why.get() + ")");
        }
    }
}
