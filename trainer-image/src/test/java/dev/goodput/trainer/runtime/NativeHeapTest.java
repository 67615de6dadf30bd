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
        // In a fresh JVM: glibc cannot hand back what an arena already kept (a secondary arena's top is not trimmed),
        // so in this JVM, after other tests trained with freed memory kept, a block could be served from that.
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), ReturningMode.class.getName())
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).as(out).isZero();
        // Mapped per allocation and unmapped on free, as with glibc's defaults: every page faults again (6,144).
        assertThat(Long.parseLong(out.lines().reduce((a, b) -> b).orElseThrow())).as(out).isGreaterThan(4_000);
    }

    /** The child: keeps freed memory as the trainer does at start, switches to the tuner's mode, counts faults. */
    public static final class ReturningMode {
        public static void main(String[] args) throws Exception {
            if (!NativeHeap.retainFreedMemory() || !NativeHeap.returnFreedMemory()) throw new IllegalStateException("mallopt refused");
            touchAndFree();
            long before = minorFaults();
            touchAndFree();
            System.out.println(minorFaults() - before);
        }
    }

    static void touchAndFree() {
        long address = Native.malloc(BLOCK);
        assertThat(address).isNotZero();
        new Pointer(address).setMemory(0, BLOCK, (byte) 1);
        Native.free(address);
    }

    /** Field 10 of /proc/self/stat; the command name before it may contain spaces, so count from its closing ')'. */
    static long minorFaults() throws Exception {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[7]);
    }
}
