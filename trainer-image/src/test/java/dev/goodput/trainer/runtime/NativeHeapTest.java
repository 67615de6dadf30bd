package dev.goodput.trainer.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledOnOs;
import org.junit.jupiter.api.condition.OS;

/** The images and the build machines run glibc, so the settings must take there. */
@EnabledOnOs(OS.LINUX)
class NativeHeapTest {
    static final long BLOCK = 24L << 20; // an activation-sized block, below the 32 MiB threshold

    @Test
    void aFreedBlockIsReusedWithoutFaultingItsPagesAgain() throws Exception {
        assertThat(NativeHeap.retainFreedMemory()).isTrue();
        touchAndFree(); // the first use faults its pages in
        long before = minorFaults();
        touchAndFree();
        long faults = minorFaults() - before;
        // With glibc's defaults the block is mapped and unmapped on each use: 6,144 faults of 4 KiB pages here. The
        // slack is for the JVM's other threads faulting meanwhile.
        assertThat(faults).isLessThan(1_000);
    }

    @Test
    void inTheReturningModeAFreedBlockIsGivenBackAndFaultedInAgain() throws Exception {
        try {
            assertThat(NativeHeap.returnFreedMemory()).isTrue();
            touchAndFree();
            long before = minorFaults();
            touchAndFree();
            // Mapped per allocation and unmapped on free, as with glibc's defaults: every page faults again (6,144).
            assertThat(minorFaults() - before).isGreaterThan(4_000);
        } finally {
            NativeHeap.retainFreedMemory();
        }
    }

    private static void touchAndFree() {
        long address = Native.malloc(BLOCK);
        assertThat(address).isNotZero();
        new Pointer(address).setMemory(0, BLOCK, (byte) 1);
        Native.free(address);
    }

    /** Field 10 of /proc/self/stat; the command name before it may contain spaces, so count from its closing ')'. */
    private static long minorFaults() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[7]);
    }
}
