package dev.goodput.operator.observe;

import dev.goodput.api.status.TrainerReport;
import io.fabric8.kubernetes.api.model.Pod;

/**
 * What the cluster and the trainer say about one attempt's pod, reduced to what the decisions need; for a job with
 * several workers, what {@code attempt.Gang} says of the attempt's pods together.
 *
 * @param attempt           the attempt number (pod label goodput.dev/attempt)
 * @param pod               the pod, or null when it does not exist (never created, or gone)
 * @param phase             the pod's phase (Pending, Running, Succeeded, Failed), null without a pod
 * @param exitCode          the trainer container's exit code once terminated
 * @param report            the trainer's termination message, parsed, or null
 * @param live              the trainer's latest {@code /progress} while this pod runs, or null
 * @param disruption        the reason of a DisruptionTarget=True condition (eviction, preemption), or null
 * @param waiting           why the pod or its container waits (Unschedulable, ErrImagePull, ...), or null
 * @param waitingMessage    the message that goes with it
 * @param deleting          the pod has a deletionTimestamp
 * @param ended             the pod will not run (any more): terminal, or deleted before it ran, or deleted long ago
 *                          on a node that does not answer; true without a pod
 * @param stopReason        why the operator itself deleted the pod (annotation goodput.dev/stop-reason), or null
 * @param brokenBy          a gang of several pods: the pod whose end broke it while others have not ended (they are
 *                          to be stopped before the attempt counts as ended); else null
 */
public record AttemptObservation(int attempt, Pod pod, String phase, Integer exitCode, TrainerReport report,
        TrainerReport live, String disruption, String waiting, String waitingMessage, boolean deleting, boolean ended,
        String stopReason, String brokenBy) {

    public static AttemptObservation none(int attempt) {
        return new AttemptObservation(attempt, null, null, null, null, null, null, null, null, false, true, null, null);
    }

    /** The same observation of a gang that {@code pod} broke: not ended until the others have. */
    public AttemptObservation brokenBy(String pod) {
        return new AttemptObservation(attempt, this.pod, phase, exitCode, report, live, disruption, waiting,
                waitingMessage, deleting, false, stopReason, pod);
    }

    /** The same observation with other trainer reports (a gang's: rank 0's). */
    public AttemptObservation withReports(TrainerReport report, TrainerReport live) {
        return new AttemptObservation(attempt, pod, phase, exitCode, report, live, disruption, waiting, waitingMessage,
                deleting, ended, stopReason, brokenBy);
    }

    public boolean exists() {
        return pod != null;
    }

    public boolean terminal() {
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    /** Running, not being deleted: the trainer serves /progress. */
    public boolean running() {
        return "Running".equals(phase) && !deleting;
    }
}
