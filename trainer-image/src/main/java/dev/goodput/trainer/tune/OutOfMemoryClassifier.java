package dev.goodput.trainer.tune;

import java.util.Locale;

/**
 * Recognises an allocator's out-of-memory error in whatever DJL wraps it in (EngineException with libtorch's message):
 * CUDA's caching allocator ("CUDA out of memory. Tried to allocate ..."), the CPU allocator ("DefaultCPUAllocator: not
 * enough memory"), and a plain bad_alloc.
 */
public final class OutOfMemoryClassifier {
    private OutOfMemoryClassifier() {}

    public static boolean isOutOfMemory(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError) return true;
            String m = c.getMessage();
            if (m == null) continue;
            String s = m.toLowerCase(Locale.ROOT);
            if (s.contains("out of memory") || s.contains("not enough memory") || s.contains("can't allocate memory")
                    || s.contains("std::bad_alloc") || s.contains("cublas_status_alloc_failed")) {
                return true;
            }
            if (c.getCause() == c) break;
        }
        return false;
    }
}
