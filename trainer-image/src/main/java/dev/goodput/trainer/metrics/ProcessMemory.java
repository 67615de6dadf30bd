package dev.goodput.trainer.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The process's resident set from /proc, native allocations (libtorch) included, which the JVM's own figures miss. */
public final class ProcessMemory {
    private static final long PAGE = 4096;

    private ProcessMemory() {}

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
