package dev.goodput.trainer.checkpoint;

import com.sun.jna.NativeLibrary;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Test-only faults in the save protocol.
 * <ul>
 *   <li>{@value #PROPERTY}{@code =POINT} (the first time POINT is reached) or {@code =POINT@N} (the N-th time) kills this
 *       process with a real SIGKILL when the save reaches that {@link SavePoint}, so the crash consistency tests can
 *       die between any two file-system calls of a save.</li>
 *   <li>{@value #SLOW_SAVE_PROPERTY}{@code =SECONDS} (every save) or {@code =SECONDS@N} (the N-th save only) makes a
 *       save wait that long once its files are written and synced, before it is renamed into place: a slow store, for
 *       the end-to-end test of a save that outlasts Kubernetes' default 30 s grace period.</li>
 * </ul>
 * Nothing sets these properties outside the tests; when they are absent, {@link #reach} is two reads of final fields.
 */
public final class FaultInjection {
    public static final String PROPERTY = "goodput.faultInjection.killAt";
    private static final SavePoint POINT;
    private static final int OCCURRENCE;
    private static final AtomicInteger REACHED = new AtomicInteger();
    public static final String SLOW_SAVE_PROPERTY = "goodput.faultInjection.slowSave";
    private static final long SLOW_SAVE_NANOS;
    private static final int SLOW_SAVE_OCCURRENCE; // 0: every save
    private static final AtomicInteger SAVES_SYNCED = new AtomicInteger();

    static {
        String slow = System.getProperty(SLOW_SAVE_PROPERTY);
        if (slow == null || slow.isBlank()) {
            SLOW_SAVE_NANOS = 0;
            SLOW_SAVE_OCCURRENCE = 0;
        } else {
            String[] parts = slow.trim().split("@", 2);
            SLOW_SAVE_NANOS = (long) (Double.parseDouble(parts[0]) * 1e9);
            SLOW_SAVE_OCCURRENCE = parts.length == 2 ? Integer.parseInt(parts[1]) : 0;
        }
    }

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
        if (SLOW_SAVE_NANOS > 0 && point == SavePoint.FOLDER_SYNCED) {
            slowDown();
        }
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

    private static void slowDown() {
        int save = SAVES_SYNCED.incrementAndGet();
        if (SLOW_SAVE_OCCURRENCE != 0 && save != SLOW_SAVE_OCCURRENCE) return;
        System.err.printf("goodput fault injection: save %d waits %.0f s before its rename (slow store)%n", save, SLOW_SAVE_NANOS / 1e9);
        System.err.flush();
        // Not interruptible: a slow disk does not return early because the thread was interrupted.
        long deadline = System.nanoTime() + SLOW_SAVE_NANOS;
        for (long left; (left = deadline - System.nanoTime()) > 0; ) {
            java.util.concurrent.locks.LockSupport.parkNanos(left);
        }
    }
}
