package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonCreator;

/**
 * Where the trainer process is, as it reports it on /progress and in its termination message ({@link TrainerReport}).
 * The operator maps it to the job's {@link JobPhase}. A name this version does not know (a newer trainer image under an
 * older operator) reads as {@link #Unknown}, whatever the reading mapper's settings, so a report is never lost for it.
 */
public enum TrainerPhase {
    /** Process started: data, model, resume; no step yet. */
    Starting,
    /** Probing micro-batch sizes against the memory budget. */
    Tuning,
    /** Taking training steps. */
    Running,
    /** A foreground save: at SIGTERM, at the end, or a periodic save the steps wait for. */
    Checkpointing,
    /** Done: the target, the step budget or patience; the final checkpoint is written. */
    Succeeded,
    /** Stopped by SIGTERM with its checkpoint written (exit 75). */
    Preempted,
    /** Ended without a usable result. */
    Failed,
    /** Reported by a trainer newer than this code. */
    Unknown;

    @JsonCreator
    public static TrainerPhase of(String name) {
        for (TrainerPhase p : values()) {
            if (p.name().equals(name)) {
                return p;
            }
        }
        return name == null ? null : Unknown;
    }
}
