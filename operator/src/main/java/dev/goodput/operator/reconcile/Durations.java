package dev.goodput.operator.reconcile;

import java.time.Duration;

/** Requeue delays, where null means "no need to come back". */
public final class Durations {
    private Durations() {}

    /** The sooner of two delays; null when both are. */
    public static Duration sooner(Duration a, Duration b) {
        return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
    }
}
