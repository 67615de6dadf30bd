package dev.goodput.api;

/**
 * The trainer's exit codes, part of the operator ↔ trainer contract. Codes follow sysexits.h where one
 * fits, so a human reading `kubectl describe pod` can guess them.
 */
public final class ExitCodes {
    /** Finished: the target was reached or the budget was spent. */
    public static final int FINISHED = 0;
    /** Unexpected error: counts as a failure against backoffLimit. */
    public static final int FAILED = 1;
    /**
     * A checkpoint could not be written (disk full, permissions, I/O errors): on SIGTERM, at the end of the run, or
     * after repeated failed periodic saves. The work since the previous checkpoint is lost, so it is a failure, even
     * when a preemption caused the SIGTERM (EX_IOERR).
     */
    public static final int CHECKPOINT_FAILED = 74;
    /** Stopped on SIGTERM after a good checkpoint: a preemption, never a failure (EX_TEMPFAIL). */
    public static final int PREEMPTED = 75;
    /** The manifest was refused before training (EX_CONFIG); retrying cannot help. */
    public static final int CONFIG_ERROR = 78;

    private ExitCodes() {}
}
