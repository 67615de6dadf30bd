package dev.goodput.operator.status;

import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.observe.AttemptObservation;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The one owner of {@code status.phase} and {@code status.conditions}. The reconciler says what happened; this class
 * decides how it reads in status. Conditions keep their lastTransitionTime while their status does not change, and
 * carry the generation they were computed for.
 *
 * <p>Conditions: {@code Valid} (the operator accepts the spec), {@code Running} (a trainer pod runs), {@code Complete}
 * (finished successfully), {@code Failed} (finished without success, or the last attempt failed and a retry waits).
 */
public class StatusAggregator {
    public static final String VALID = "Valid";
    public static final String RUNNING = "Running";
    public static final String COMPLETE = "Complete";
    public static final String FAILED = "Failed";

    public enum Phase { Pending, Tuning, Running, Checkpointing, Preempted, Suspended, Succeeded, Failed }

    private final Clock clock;

    public StatusAggregator(Clock clock) {
        this.clock = clock;
    }

    public static boolean finished(TrainingJobStatus s) {
        return Phase.Succeeded.name().equals(s.phase) || Phase.Failed.name().equals(s.phase);
    }

    public void invalid(TrainingJobStatus s, long generation, String reason, List<String> problems) {
        s.observedGeneration = generation;
        set(s, generation, VALID, false, reason, String.join("; ", problems));
        if (s.phase == null) {
            s.phase = Phase.Pending.name();
        }
        set(s, generation, RUNNING, false, reason, "not started: the spec is not valid");
    }

    public void valid(TrainingJobStatus s, long generation) {
        s.observedGeneration = generation;
        set(s, generation, VALID, true, "Accepted", "the spec is valid");
    }

    /** A pod for {@code attempt} was just created. */
    public void attemptStarted(TrainingJobStatus s, long generation, int attempt) {
        s.attempts = attempt;
        s.phase = Phase.Pending.name();
        set(s, generation, RUNNING, false, "PodCreated", "attempt " + attempt + ": pod created");
    }

    /** The current attempt's pod is Pending or Running. */
    public void observed(TrainingJobStatus s, long generation, AttemptObservation o) {
        if ("Running".equals(o.phase()) && !o.deleting()) {
            s.phase = Phase.Running.name();
            if (s.startTime == null) {
                s.startTime = now();
            }
            set(s, generation, RUNNING, true, "PodRunning", "attempt " + o.attempt() + ": trainer running");
        } else if (o.deleting()) {
            s.phase = o.disruption() != null ? Phase.Preempted.name() : Phase.Checkpointing.name();
            set(s, generation, RUNNING, false, o.disruption() != null ? o.disruption() : "PodTerminating",
                    "attempt " + o.attempt() + ": pod terminating; the trainer checkpoints before it exits");
        } else {
            s.phase = Phase.Pending.name();
            String reason = o.waiting() != null ? o.waiting() : "PodPending";
            String message = "attempt " + o.attempt() + ": pod pending" + (o.waitingMessage() != null ? ": " + o.waitingMessage() : "");
            set(s, generation, RUNNING, false, reason, message);
        }
        copyReport(s, o.report());
    }

    public void succeeded(TrainingJobStatus s, long generation, AttemptObservation o) {
        copyReport(s, o.report());
        s.phase = Phase.Succeeded.name();
        s.completionTime = now();
        String message = o.report() != null && o.report().message != null ? o.report().message : "the trainer finished";
        set(s, generation, RUNNING, false, "PodSucceeded", "attempt " + o.attempt() + " finished");
        set(s, generation, COMPLETE, true, o.report() != null && Boolean.TRUE.equals(o.report().targetReached)
                ? "TargetReached" : "Finished", message);
        set(s, generation, FAILED, false, "Finished", message);
    }

    /** The attempt ended by preemption (eviction, deletion, or the trainer's preemption exit code). */
    public void preempted(TrainingJobStatus s, long generation, AttemptObservation o, String reason) {
        copyReport(s, o.report());
        s.preemptions = (s.preemptions == null ? 0 : s.preemptions) + 1;
        s.phase = Phase.Preempted.name();
        set(s, generation, RUNNING, false, reason, "attempt " + o.attempt() + " was preempted (" + reason
                + "); the next attempt resumes from the last checkpoint");
    }

    /** The attempt failed; {@code last} when no retry follows (backoffLimit reached or a config error). */
    public void attemptFailed(TrainingJobStatus s, long generation, AttemptObservation o, String reason, String message,
            boolean last) {
        copyReport(s, o.report());
        s.failures = (s.failures == null ? 0 : s.failures) + 1;
        set(s, generation, RUNNING, false, reason, "attempt " + o.attempt() + " failed: " + message);
        if (last) {
            s.phase = Phase.Failed.name();
            s.completionTime = now();
            set(s, generation, FAILED, true, reason, message);
            set(s, generation, COMPLETE, false, reason, message);
        }
    }

    /** A failed attempt waits for its back-off before the next one is started (nothing is counted yet). */
    public void backingOff(TrainingJobStatus s, long generation, AttemptObservation o, String reason, String message,
            long waitSeconds) {
        s.phase = Phase.Pending.name();
        set(s, generation, RUNNING, false, "BackOff", "attempt " + o.attempt() + " failed (" + reason + ": " + message
                + "); next attempt in " + waitSeconds + "s");
    }

    private void copyReport(TrainingJobStatus s, TrainerReport r) {
        if (r == null) {
            return;
        }
        if (r.progress != null) s.progress = r.progress;
        if (r.lastCheckpoint != null) s.lastCheckpoint = r.lastCheckpoint;
        if (r.tunedBatch != null) s.tunedBatch = r.tunedBatch;
        if (r.timeToTargetSeconds != null) s.timeToTargetSeconds = r.timeToTargetSeconds;
    }

    /** Sets a condition; lastTransitionTime changes only when its status does. */
    void set(TrainingJobStatus s, long generation, String type, boolean status, String reason, String message) {
        if (s.conditions == null) {
            s.conditions = new ArrayList<>();
        }
        String value = status ? "True" : "False";
        JobCondition c = s.conditions.stream().filter(x -> type.equals(x.type)).findFirst().orElse(null);
        if (c == null) {
            c = new JobCondition();
            c.type = type;
            s.conditions.add(c);
        }
        if (!Objects.equals(c.status, value) || c.lastTransitionTime == null) {
            c.lastTransitionTime = now();
        }
        c.status = value;
        c.reason = reason;
        c.message = message;
        c.observedGeneration = generation;
    }

    private String now() {
        return Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
