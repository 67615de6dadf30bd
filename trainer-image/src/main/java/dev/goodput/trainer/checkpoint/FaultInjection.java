package dev.goodput.trainer.checkpoint;

import com.sun.jna.NativeLibrary;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only: kills this process with a real SIGKILL when the save protocol reaches a named {@link SavePoint}, so the
 * crash consistency tests can die between any two file-system calls of a save. Off unless the JVM is started with
 * {@value #PROPERTY}{@code =POINT} (the first time POINT is reached) or {@code =POINT@N} (the N-th time). Nothing sets
 * that property outside the tests; when it is absent, {@link #reach} is one read of a final field.
 */
public final class FaultInjection {
    public static final String PROPERTY = "goodput.faultInjection.killAt";
    private static final SavePoint POINT;
    private static final int OCCURRENCE;
    private static final AtomicInteger REACHED = new AtomicInteger();

    static {
        String spec = System.getProperty(PROPERTY);
        if (spec == null || spec.isBlank()) {
            POINT = null;
            OCCURRENCE = 0;
        } else {
            String[] parts = spec.trim().split("@", 2);
            POINT = SavePoint.valueOf(parts[0]);
            OCCURRENCE = parts.length == 2 ? Integer.parseInt(parts[1]) : 1;
        }
    }

    private FaultInjection() {}

    static boolean enabled() {
        return POINT != null;
    }

    /** Called by the save protocol at each point; dies there if this is the configured point and occurrence. */
    static void reach(SavePoint point) {
        if (POINT != point || REACHED.incrementAndGet() != OCCURRENCE) return;
        long pid = ProcessHandle.current().pid();
        System.err.println("goodput fault injection: SIGKILL at " + point + " (occurrence " + OCCURRENCE + ")");
        System.err.flush();
        try {
            NativeLibrary.getInstance("c").getFunction("kill").invokeInt(new Object[] {(int) pid, 9});
        } catch (UnsatisfiedLinkError e) {
            // No libc through JNA: halting at once is the nearest thing (no shutdown hooks, nothing flushed).
        }
        Runtime.getRuntime().halt(137);
    }
}
