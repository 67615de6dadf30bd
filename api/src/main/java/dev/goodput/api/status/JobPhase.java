package dev.goodput.api.status;

/** A TrainingJob's phase, {@code status.phase}: the operator alone writes it, following its attempts and the trainer. */
public enum JobPhase {
    /** Waiting: for validation, for a pod to be bound, for a back-off, for the trainer's first answer. */
    Pending,
    /** The trainer is tuning its micro-batch. */
    Tuning,
    /** The trainer trains. */
    Running,
    /** The trainer writes a checkpoint the steps wait for (a SIGTERM save included). */
    Checkpointing,
    /** The attempt was preempted; the next one resumes from its checkpoint. */
    Preempted,
    /** spec.suspend: no pod; resuming continues from the checkpoint. */
    Suspended,
    /** Finished with a result. */
    Succeeded,
    /** Finished without one: refused, failed past backoffLimit, or invalid. */
    Failed;

    /** Succeeded or Failed: nothing more happens to the job. */
    public boolean finished() {
        return this == Succeeded || this == Failed;
    }
}
