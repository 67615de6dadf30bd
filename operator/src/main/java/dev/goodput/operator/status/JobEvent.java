package dev.goodput.operator.status;

/**
 * A Kubernetes Event the reconciler records on a TrainingJob, decided by {@link StatusAggregator} together with the
 * condition it mirrors. {@code attempt} and {@code reason} identify it: the same event for the same attempt is
 * recorded once, however often a reconcile repeats.
 *
 * @param type    Normal or Warning
 * @param reason  short CamelCase reason (Preempted, AttemptFailed, BackoffLimitExceeded, Completed, Suspended, ...)
 * @param message what happened, for humans
 * @param attempt the attempt it is about
 */
public record JobEvent(String type, String reason, String message, int attempt) {
    public static final String NORMAL = "Normal";
    public static final String WARNING = "Warning";
}
