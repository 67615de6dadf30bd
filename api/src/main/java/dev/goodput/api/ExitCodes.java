package dev.goodput.api;

/**
 * The trainer's exit codes, part of the operator ↔ trainer contract (design.md §4). Codes follow sysexits.h where one
 * fits, so a human reading `kubectl describe pod` can guess them.
 */
public final class ExitCodes {
    /** Finished: the target was reached or the budget was spent. */
    public static final int FINISHED = 0;
    /** Unexpected error: counts as a failure against backoffLimit. */
    public static final int FAILED = 1;
    /** Stopped on SIGTERM after a good checkpoint: a preemption, never a failure (EX_TEMPFAIL). */
    public static final int PREEMPTED = 75;
    /** The manifest was refused before training (EX_CONFIG); retrying cannot help. */
    public static final int CONFIG_ERROR = 78;

    private ExitCodes() {}
}
