package dev.goodput.api.status;

/** How an attempt (one trainer pod) ended, {@code status.attemptHistory[].outcome}; the cost accounting reads it. */
public enum AttemptOutcome {
    /** Not ended yet. */
    Running,
    /** The trainer finished (target reached or budget spent). */
    Succeeded,
    /** Stopped from outside with its work up to the last checkpoint kept: eviction, deletion, exit 75, suspend. */
    Preempted,
    /** Anything else: counts against backoffLimit, its work after the last checkpoint lost. */
    Failed
}
