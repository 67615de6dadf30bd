package dev.goodput.trainer.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set from /proc, native allocations (libtorch) included, which the JVM's own figures miss. */
public final class ProcessMemory {
    private static final long PAGE = 4096;

    private ProcessMemory() {}

    /** Resets the kernel's peak-RSS mark (VmHWM) to the current resident set, so the next peak is this phase's. */
    public static void resetPeak() {
        try {
            Files.writeString(Path.of("/proc/self/clear_refs"), "5");
        } catch (IOException | RuntimeException ignored) {
            // Not Linux, or not allowed: the peak then covers the whole process lifetime, an over-estimate.
        }
    }

    /** Peak resident bytes since start or the last {@link #resetPeak()}, or -1 where /proc is not available. */
    public static long peakResidentBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | RuntimeException ignored) {
            // fall through
        }
        return -1;
    }

    /** The container's memory limit (cgroup v2 memory.max, else v1), or -1 when unlimited or unknown. */
    public static long containerLimitBytes() {
        for (String f : new String[] {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
            try {
                String v = Files.readString(Path.of(f)).trim();
                if (v.equals("max")) return -1;
                long n = Long.parseLong(v);
                return n > (1L << 60) ? -1 : n;
            } catch (IOException | RuntimeException ignored) {
                // try the next
            }
        }
        return -1;
    }

    /** Resident bytes now, or -1 where /proc is not available. */
    public static long residentBytes() {
        try {
            String[] f = Files.readString(Path.of("/proc/self/statm")).trim().split("\\s+");
            return Long.parseLong(f[1]) * PAGE;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }
}
