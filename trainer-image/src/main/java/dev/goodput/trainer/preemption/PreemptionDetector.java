package dev.goodput.trainer.preemption;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;

/**
 * Turns SIGTERM (a pod deletion, eviction or spot reclaim) and SIGINT (Ctrl-C on a laptop) into a flag the training
 * loop checks between steps, instead of the JVM's default of exiting at once. A second signal, or the grace period
 * running out, halts the process: the checkpoint protocol guarantees the previous checkpoint is still intact then.
 */
public final class PreemptionDetector {
    /** Exit code when the process is stopped before it could finish its save (128 + SIGTERM). */
    public static final int HALTED = 143;

    private final AtomicInteger signals = new AtomicInteger();
    private final Duration grace;
    private volatile long firstSignalNanos;
    private volatile String signalName;
    /** The exit code once the run's outcome is decided; until then the deadline means {@link #HALTED}. */
    private volatile int settled = HALTED;

    public PreemptionDetector(Duration grace) {
        this.grace = grace;
    }

    public void install() {
        for (String name : new String[] {"TERM", "INT"}) {
            Signal.handle(new Signal(name), this::onSignal);
        }
    }

    private void onSignal(Signal s) {
        int n = signals.incrementAndGet();
        if (n == 1) {
            firstSignalNanos = System.nanoTime();
            signalName = "SIG" + s.getName();
            System.err.println("goodput: " + signalName + " received; checkpointing before exit (grace " + grace.toSeconds() + "s)");
            Thread watchdog = new Thread(this::haltAtDeadline, "goodput-grace-watchdog");
            watchdog.setDaemon(true);
            watchdog.start();
        } else {
            System.err.println("goodput: second SIG" + s.getName() + "; exiting now, the previous checkpoint stays the latest");
            Runtime.getRuntime().halt(HALTED);
        }
    }

    /** Leave a margin before SIGKILL so the exit is ours and the termination message gets written. */
    private void haltAtDeadline() {
        long margin = Math.min(2_000, grace.toMillis() / 10);
        long sleep = grace.toMillis() - margin;
        try {
            Thread.sleep(Math.max(0, sleep));
        } catch (InterruptedException e) {
            return;
        }
        int code = settled;
        if (code == HALTED) {
            System.err.println("goodput: grace period nearly over and the checkpoint is not done; exiting, the previous checkpoint stays the latest");
        } else {
            System.err.println("goodput: grace period nearly over while shutting down; exiting with the decided code " + code);
        }
        Runtime.getRuntime().halt(code);
    }

    /**
     * The run's outcome is decided and reported (its checkpoint durable, or known to have failed): should the grace
     * period end before the process does, it exits with {@code code} rather than {@link #HALTED}.
     */
    public void settle(int code) {
        settled = code;
    }

    /**
     * Another process of the run was signalled and every process stops with it; this one has no deadline of its own
     * (its pod's SIGTERM, if it comes, starts one).
     */
    public void stopWithPeer() {
        if (signalName == null) signalName = "a peer's SIGTERM";
    }

    public boolean stopRequested() {
        return signals.get() > 0;
    }

    public String signalName() {
        return signalName;
    }

    /** Time left before the grace period ends, or the whole grace period when no signal came yet. */
    public Duration remaining() {
        if (signals.get() == 0) return grace;
        return grace.minusNanos(System.nanoTime() - firstSignalNanos);
    }
}
