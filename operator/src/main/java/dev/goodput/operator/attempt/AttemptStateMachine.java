package dev.goodput.operator.attempt;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.status.JobEvent;
import dev.goodput.operator.status.StatusAggregator;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Decide: what the state of the current attempt means for the job, as a pure function of what status records
 * ({@link StatusView}), what was observed of the attempt's pod ({@link AttemptObservation}), the spec and the time. No
 * client, no clock, no status written here: the reconciler carries out the {@link Decision} (closes the attempt's
 * record, has {@link StatusAggregator} write the {@link Report} and pick its event, stops or starts a pod), so every
 * transition can be checked in a table (AttemptStateMachineTest).
 *
 * <p>The current attempt is observed as one {@link Gang}: for a job with several workers, its pods' lead. One pod of a
 * gang ending before the others has them stopped ({@value #STOP_GANG}), and the attempt ends, with the outcome of the
 * pod whose end broke it, once all have.
 *
 * <p>Preemptions (a DisruptionTarget, a pod deleted by someone else or gone, the trainer's exit code 75) start the next
 * attempt at once and never count against backoffLimit; failures wait an exponential back-off and end the job after
 * backoffLimit retries; exit code 78 (config error) ends it at once; exit code 74 (checkpoint failed) is a failure even
 * on a preempted pod, since work was lost. A pod stopped for {@code spec.suspend} counts as neither; resuming starts the
 * next attempt, which resumes from its checkpoint. A running trainer whose steps stand still longer than its stall
 * timeout ({@link StallDetector}) is reported Stalled and, with {@code spec.stall.restart}, stopped: a failure.
 *
 * <p>Idempotence: the attempt counter advances only with the decision to start the next attempt, whose pod is a pure
 * function of job and attempt; after a lost status write the same observation yields the same decision, so the same
 * pod is applied again and nothing is counted twice.
 */
public final class AttemptStateMachine {
    /** Stop reasons the operator writes on pods it deletes itself (annotation {@code goodput.dev/stop-reason}). */
    public static final String STOP_SUSPENDED = "Suspended";
    public static final String STOP_JOB_DELETED = "JobDeleted";
    /** spec.stall.restart: the trainer took no step for longer than its stall timeout. */
    public static final String STOP_STALLED = "Stalled";
    /** The preemption reason of a trainer that exited with {@link ExitCodes#PREEMPTED} and nothing else says why. */
    public static final String TRAINER_PREEMPTED = "TrainerPreempted";
    /** A gang's pod stopped because another pod of its gang had ended ({@link Gang}). */
    public static final String STOP_GANG = "GangRestart";
    private static final Set<String> PREEMPTION_REASONS = Set.of("PreemptionByScheduler", "EvictionByEvictionAPI",
            "DeletionByTaintManager", "TerminationByKubelet");

    private final Backoff backoff;

    public AttemptStateMachine(Backoff backoff) {
        this.backoff = backoff;
    }

    /** The delay before the attempt after a failure: {@code first}, doubled with each failure, at most {@code max}. */
    public record Backoff(Duration first, Duration max) {
        public static Backoff of(OperatorSettings settings) {
            return new Backoff(settings.failureBackoff(), settings.maxFailureBackoff());
        }

        public Duration after(int failuresSoFar) {
            Duration d = first.multipliedBy(1L << Math.min(failuresSoFar, 20));
            return d.compareTo(max) > 0 ? max : d;
        }
    }

    /** What the decisions need of status. */
    public record StatusView(int attempts, int failures, boolean finished, boolean suspensionRecorded) {
        public static StatusView of(TrainingJobStatus s) {
            return new StatusView(s.attempts == null ? 0 : s.attempts, s.failures == null ? 0 : s.failures,
                    StatusAggregator.finished(s), StatusAggregator.suspensionRecorded(s));
        }

        /** Whether status records how attempt {@code a} ended: a later attempt started, or it finished or suspended the job. */
        public boolean recordsEndOf(int a) {
            return a >= 1 && (a < attempts || a == attempts && (finished || suspensionRecorded));
        }
    }

    /**
     * @param status  status as this reconcile found it
     * @param current the observation of attempt {@code status.attempts} (of no pod while it is 0)
     * @param spec    the job's spec: {@code suspend}, {@code backoffLimit}
     * @param now     the time the back-off is measured against
     */
    public record Input(StatusView status, AttemptObservation current, TrainingJobSpec spec, Instant now) {}

    /** How the attempt's record in status.attemptHistory closes: a {@link CostLedger} outcome and its reason. */
    public record Close(AttemptOutcome outcome, String reason) {}

    /**
     * What one reconcile does about the current attempt, in this order.
     *
     * @param pollProgress whether the trainer's {@code /progress} is polled (its pod runs); else polling stops
     * @param stop         the stop reason to delete the current attempt's pods that still run with, gracefully; null:
     *                     they stay
     * @param close        how the attempt's record closes; null: it stays open
     * @param report       what status says about it ({@link StatusAggregator} writes it and decides its event); null
     *                     only for a job that had already finished, about whose attempts there is nothing to decide
     * @param start        the attempt to start now; null: none
     * @param retryAfter   when to look again with nothing happening: the back-off left before the next attempt
     *                     starts, or when a running trainer's steps would count as stalled; null: no wait
     */
    public record Decision(boolean pollProgress, String stop, Close close, Report report, Integer start,
            Duration retryAfter) {
        public static final Decision FINISHED = new Decision(false, null, null, null, null, null);

        static Decision reporting(Report report) {
            return new Decision(false, null, null, report, null, null);
        }

        static Decision closing(AttemptOutcome outcome, String reason, Report report) {
            return new Decision(false, null, new Close(outcome, reason), report, null, null);
        }

        Decision starting(int attempt) {
            return new Decision(pollProgress, stop, close, report, attempt, retryAfter);
        }

        Decision retryingAfter(Duration wait) {
            return new Decision(pollProgress, stop, close, report, start, wait);
        }

        public boolean finished() {
            return report == null;
        }
    }

    /** What status says about the attempt: one {@link StatusAggregator} method each, which also picks the event. */
    public sealed interface Report {
        /** Writes it into status; returns the event that goes with it, or null when there is none (or it was recorded). */
        JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o);

        /** The pod is pending, running or terminating. */
        record Observed() implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                aggregator.observed(s, generation, o);
                return null;
            }
        }

        /** The trainer runs but its steps have stood still for {@code stalledFor}; {@code restarting}: its pod is stopped. */
        record Stalled(Duration stalledFor, boolean restarting) implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.stalled(s, generation, o, stalledFor, restarting);
            }
        }

        /** Another pod of the gang has ended ({@code o.brokenBy()}): the others are being stopped and checkpoint first. */
        record GangStopping() implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                aggregator.gangStopping(s, generation, o);
                return null;
            }
        }

        /** spec.suspend while the pod runs: it is being stopped and checkpoints first. */
        record Suspending() implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                aggregator.suspending(s, generation, o);
                return null;
            }
        }

        /** spec.suspend and no pod runs (any more). */
        record Suspended() implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.suspended(s, generation, o);
            }
        }

        /** No suspension (any more): attempt {@code next} starts. */
        record Resumed(int next) implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.resumed(s, generation, next);
            }
        }

        record Succeeded() implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.succeeded(s, generation, o);
            }
        }

        record Preempted(String reason) implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.preempted(s, generation, o, reason);
            }
        }

        /** {@code last}: no retry follows, the job has failed. */
        record Failed(String reason, String message, boolean last) implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                return aggregator.attemptFailed(s, generation, o, reason, message, last);
            }
        }

        /** The attempt failed and the next one waits {@code waitSeconds} more. */
        record BackingOff(String reason, String message, long waitSeconds) implements Report {
            public JobEvent write(StatusAggregator aggregator, TrainingJobStatus s, long generation, AttemptObservation o) {
                aggregator.backingOff(s, generation, o, reason, message, waitSeconds);
                return null;
            }
        }
    }

    public Decision decide(Input in) {
        StatusView s = in.status();
        AttemptObservation o = in.current();
        boolean suspend = Boolean.TRUE.equals(in.spec().suspend);
        if (s.finished()) {
            return Decision.FINISHED;
        }
        if (s.attempts() == 0) {
            return suspend ? Decision.reporting(new Report.Suspended())
                    : Decision.reporting(new Report.Resumed(1)).starting(1);
        }
        if (!o.ended()) {
            if (suspend) {
                return new Decision(false, STOP_SUSPENDED, null, new Report.Suspending(), null, null);
            }
            if (o.brokenBy() != null) {
                // The attempt ends when its last pod has: the next one must not start while rank 0 still checkpoints.
                return new Decision(false, STOP_GANG, null, new Report.GangStopping(), null, null);
            }
            Duration stalled = o.running() ? StallDetector.stalledFor(o.live(), in.spec(), in.now()) : null;
            if (stalled != null) {
                boolean restart = StallDetector.restarts(in.spec());
                return new Decision(!restart, restart ? STOP_STALLED : null, null, new Report.Stalled(stalled, restart),
                        null, null);
            }
            // Steps alone trigger no reconcile: come back when a stall would be due.
            Duration stallCheck = o.running() ? StallDetector.untilStalled(o.live(), in.spec(), in.now()) : null;
            return new Decision(o.running(), null, null, new Report.Observed(), null, stallCheck);
        }
        return ended(s, o, suspend, in.spec(), in.now());
    }

    /** The current attempt's pod has ended (or is gone). */
    private Decision ended(StatusView s, AttemptObservation o, boolean suspend, TrainingJobSpec spec, Instant now) {
        int backoffLimit = spec.backoffLimitOrDefault();
        int next = o.attempt() + 1;
        if (o.exists() && "Succeeded".equals(o.phase())) {
            boolean target = o.report() != null && Boolean.TRUE.equals(o.report().targetReached);
            return Decision.closing(AttemptOutcome.Succeeded, target ? "TargetReached" : "Finished", new Report.Succeeded());
        }
        // Stopped like a preemption (SIGTERM, checkpoint, exit) but on purpose: billed until it stopped, its work up to
        // that checkpoint kept; counted as neither a preemption nor a failure in status.
        if (suspend) {
            return Decision.closing(AttemptOutcome.Preempted, STOP_SUSPENDED, new Report.Suspended());
        }
        if (STOP_SUSPENDED.equals(o.stopReason()) || !o.exists() && s.suspensionRecorded()) {
            return Decision.closing(AttemptOutcome.Preempted, STOP_SUSPENDED, new Report.Resumed(next)).starting(next);
        }
        String preemption = preemptionReason(o);
        if (preemption != null) {
            return Decision.closing(AttemptOutcome.Preempted, preemption, new Report.Preempted(preemption)).starting(next);
        }
        String message = o.report() != null && o.report().message != null ? o.report().message
                : o.exitCode() == null ? "pod failed" : "exit code " + o.exitCode();
        if (Objects.equals(o.exitCode(), ExitCodes.CONFIG_ERROR)) {
            return Decision.closing(AttemptOutcome.Failed, "ConfigError", new Report.Failed("ConfigError", message, true));
        }
        // The attempt is over whether or not a retry follows (after a back-off): its billing stops here.
        String reason = failureReason(o);
        if ("OOMKilled".equals(reason)) {
            message = outOfMemory(spec); // a killed trainer wrote no termination message: say what to change
        } else if (STOP_STALLED.equals(reason)) {
            message = "the trainer took no training step for longer than its stall timeout (spec.stall.timeout); its pod"
                    + " was stopped and the next attempt resumes from the last checkpoint";
        }
        int failures = s.failures() + 1;
        if (failures > backoffLimit) {
            return Decision.closing(AttemptOutcome.Failed, reason, new Report.Failed("BackoffLimitExceeded",
                    message + " (" + failures + " failures, backoffLimit " + backoffLimit + ")", true));
        }
        Duration left = Duration.between(now, finishedAt(o.pod(), now).plus(backoff.after(s.failures())));
        if (!left.isNegative() && !left.isZero()) {
            return Decision.closing(AttemptOutcome.Failed, reason,
                    new Report.BackingOff(reason, message, Math.max(1, left.toSeconds()))).retryingAfter(left);
        }
        return Decision.closing(AttemptOutcome.Failed, reason, new Report.Failed(reason, message, false)).starting(next);
    }

    /**
     * Why an ended attempt counts as a preemption, or null for a failure: a DisruptionTarget reason, a pod deleted by
     * someone else (or gone), or the trainer's preemption exit code; never when the trainer says its checkpoint failed.
     */
    public static String preemptionReason(AttemptObservation o) {
        if (STOP_STALLED.equals(o.stopReason())) {
            return null; // the operator stopped it for making no progress: a failure, whatever its exit code
        }
        if (Objects.equals(o.exitCode(), ExitCodes.CHECKPOINT_FAILED)) {
            return null; // its checkpoint could not be written: work was lost, whatever stopped it, so it is a failure
        }
        if (!o.exists()) {
            return "PodDeleted";
        }
        if (o.disruption() != null && PREEMPTION_REASONS.contains(o.disruption())) {
            return o.disruption();
        }
        if (o.deleting()) {
            return "PodDeleted";
        }
        if (Objects.equals(o.exitCode(), ExitCodes.PREEMPTED)) {
            return TRAINER_PREEMPTED;
        }
        return null;
    }

    /** What an OOMKilled attempt means to the job's owner, and which fields to change. */
    static String outOfMemory(TrainingJobSpec spec) {
        String limit = spec.resources != null && spec.resources.memory != null
                ? "spec.resources.memory: " + spec.resources.memory : "the namespace's default memory limit";
        String batch = spec.training == null ? null : spec.training.batchSize;
        String fix = batch == null || "auto".equals(batch)
                ? "raise spec.resources.memory, or spec.training.batchMargin so the tuned micro-batch leaves more room"
                : "raise spec.resources.memory, lower spec.training.batchSize (" + batch
                        + "), or set it to auto so the trainer fits the micro-batch to the limit";
        return "the trainer ran out of memory: the kernel killed it at the container's limit (" + limit + "); " + fix;
    }

    /**
     * Stalled (stopped by the operator for taking no step), CheckpointFailed (the trainer's exit code 74), OOMKilled
     * (the kernel killed it for memory) or PodFailed.
     */
    public static String failureReason(AttemptObservation o) {
        if (STOP_STALLED.equals(o.stopReason())) {
            return STOP_STALLED;
        }
        if (Objects.equals(o.exitCode(), ExitCodes.CHECKPOINT_FAILED)) {
            return "CheckpointFailed";
        }
        if (o.pod() != null && o.pod().getStatus() != null && o.pod().getStatus().getContainerStatuses() != null) {
            for (var c : o.pod().getStatus().getContainerStatuses()) {
                var t = c.getState() == null ? null : c.getState().getTerminated();
                if (t != null && "OOMKilled".equals(t.getReason())) {
                    return "OOMKilled";
                }
            }
        }
        return "PodFailed";
    }

    /** Deleting the job: the pods that still run, to be stopped gracefully (they checkpoint) and waited for. */
    public static List<Pod> toStopOnDeletion(Collection<AttemptObservation> pods) {
        return pods.stream().filter(o -> !o.ended()).map(AttemptObservation::pod).toList();
    }

    /** The back-off runs from when the pod's container finished, or from now when that is not known. */
    private static Instant finishedAt(Pod pod, Instant now) {
        return pod.getStatus().getContainerStatuses().stream()
                .map(c -> c.getState() == null ? null : c.getState().getTerminated()).filter(Objects::nonNull)
                .map(t -> t.getFinishedAt()).filter(Objects::nonNull).map(Instant::parse).findFirst().orElse(now);
    }
}
