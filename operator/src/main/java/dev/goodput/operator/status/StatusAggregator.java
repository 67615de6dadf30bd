package dev.goodput.operator.status;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.api.status.Workers;
import dev.goodput.operator.attempt.AttemptStateMachine;
import dev.goodput.operator.attempt.Gang;
import dev.goodput.operator.cost.PriceQuote;
import dev.goodput.operator.observe.AttemptObservation;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The one owner of {@code status.phase} and {@code status.conditions}. The reconciler says what happened; this class
 * decides how it reads in status, and which {@link JobEvent} goes with it (returned by the methods that record an
 * outcome; null when nothing new happened). Conditions keep their lastTransitionTime while their status does not
 * change, and carry the generation they were computed for.
 *
 * <p>Conditions: {@code Valid} (the operator accepts the spec), {@code Running} (a trainer pod runs), {@code Complete}
 * (finished successfully), {@code Failed} (finished without success, or the last attempt failed and a retry waits),
 * {@code Suspended} (spec.suspend: reason Suspending while the pod checkpoints and stops, Suspended once it has;
 * False with reason Resumed after), {@code Priced} (the current attempt has a price; False with the reason when it
 * has none, see {@link #priced}), {@code CheckpointHealthy} (True once the trainer has saved a checkpoint, False with
 * reason SaveFailed and the trainer's message while its saves fail, see {@link #checkpoints}), {@code Stalled} (True
 * with reason NoProgress while a running trainer takes no step for longer than its stall timeout; False with reason
 * Progressing once it steps again, see {@link #stalled}).
 */
public class StatusAggregator {
    public static final String VALID = "Valid";
    public static final String RUNNING = "Running";
    public static final String COMPLETE = "Complete";
    public static final String FAILED = "Failed";
    public static final String SUSPENDED = "Suspended";
    public static final String PRICED = "Priced";
    public static final String CHECKPOINT_HEALTHY = "CheckpointHealthy";
    public static final String STALLED = "Stalled";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Clock clock;

    public StatusAggregator(Clock clock) {
        this.clock = clock;
    }

    public static boolean finished(TrainingJobStatus s) {
        return s.phase != null && s.phase.finished();
    }

    /** Status records that the current attempt ended by suspension (its pod may be released). */
    public static boolean suspensionRecorded(TrainingJobStatus s) {
        JobCondition c = condition(s, SUSPENDED);
        return s.phase == JobPhase.Suspended && c != null && "True".equals(c.status) && SUSPENDED.equals(c.reason);
    }

    public static JobCondition condition(TrainingJobStatus s, String type) {
        return s.conditions == null ? null : s.conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElse(null);
    }

    public void invalid(TrainingJobStatus s, long generation, String reason, List<String> problems) {
        validated(s, generation);
        set(s, generation, VALID, false, reason, String.join("; ", problems));
        if (s.phase == null) {
            s.phase = JobPhase.Pending;
        }
        set(s, generation, RUNNING, false, reason, "not started: the spec is not valid");
    }

    public void valid(TrainingJobStatus s, long generation) {
        validated(s, generation);
        set(s, generation, VALID, true, "Accepted", "the spec is valid");
    }

    /**
     * observedGeneration is the generation the running pod runs; before any attempt, the one validated. An edit that
     * applies at the next attempt leaves it where it is until then.
     */
    private static void validated(TrainingJobStatus s, long generation) {
        if (s.attempts == null || s.attempts == 0) {
            s.observedGeneration = generation;
        }
    }

    /**
     * The running trainer's steps have stood still for {@code stalledFor}. Condition Stalled=True, and the Warning event
     * Stalled once per attempt; {@code restarting}: its pod is being stopped, a failure (spec.stall.restart).
     */
    public JobEvent stalled(TrainingJobStatus s, long generation, AttemptObservation o, java.time.Duration stalledFor,
            boolean restarting) {
        observed(s, generation, o);
        long step = o.live() != null && o.live().progress != null ? o.live().progress.step : 0;
        String message = "attempt " + o.attempt() + ": no training step for " + stalledFor.toSeconds() + "s (last step "
                + step + ")" + (restarting ? "; stopping the pod, the next attempt resumes from " + resumesFrom(s)
                : "; the pod is left running (spec.stall.restart: true restarts it from its checkpoint)");
        set(s, generation, STALLED, true, "NoProgress", message);
        return new JobEvent(JobEvent.WARNING, STALLED, message, o.attempt());
    }

    /** The pods of {@code attempt} ({@code workers} of them) were just created; they run {@code spec} of {@code generation}. */
    public void attemptStarted(TrainingJobStatus s, long generation, int attempt, int workers, String spec) {
        s.attempts = attempt;
        s.observedGeneration = generation;
        s.reconciledSpec = spec;
        s.phase = JobPhase.Pending;
        s.workers = new Workers(workers, 0);
        set(s, generation, RUNNING, false, "PodCreated", "attempt " + attempt + ": "
                + (workers == 1 ? "pod created" : workers + " pods created"));
    }

    /** {@code status.workers} of the current attempt's gang: its size and how many of its pods are Ready. */
    public void workers(TrainingJobStatus s, Gang gang) {
        s.workers = new Workers(gang.members().size(), gang.ready());
    }

    /**
     * A pod of the gang has ended ({@code o}, the one that broke it) while others run: they are being stopped
     * gracefully (rank 0 checkpoints on its way out), and the outcome is counted once all have ended.
     */
    public void gangStopping(TrainingJobStatus s, long generation, AttemptObservation o) {
        String why = AttemptStateMachine.preemptionReason(o) != null ? AttemptStateMachine.preemptionReason(o)
                : AttemptStateMachine.failureReason(o);
        s.phase = JobPhase.Checkpointing;
        set(s, generation, RUNNING, false, "GangRestarting", "attempt " + o.attempt() + ": pod " + o.brokenBy()
                + " ended (" + why + "); stopping the attempt's other pods gracefully, the next attempt starts when all"
                + " have stopped");
    }

    /**
     * The current attempt's pod is Pending, Running or terminating. While it runs, the phase follows the trainer's
     * own (Tuning, Running, Checkpointing from {@code /progress}) and its progress, checkpoint and batch are copied.
     */
    public void observed(TrainingJobStatus s, long generation, AttemptObservation o) {
        if (o.running()) {
            s.phase = trainerPhase(o.live());
            if (s.startTime == null) {
                s.startTime = now();
            }
            // The reason says how far the trainer is (written at once, unlike its step count): PodRunning until it
            // answers /progress, then Starting, Tuning, Training or Checkpointing.
            TrainerPhase trainer = o.live() == null ? null : o.live().phase;
            String reason = trainer == null ? "PodRunning" : trainer == TrainerPhase.Running ? "Training" : trainer.name();
            String what = switch (reason) {
                case "PodRunning" -> "trainer running";
                case "Training" -> "training";
                default -> "trainer " + reason.toLowerCase(java.util.Locale.ROOT);
            };
            set(s, generation, RUNNING, true, reason, "attempt " + o.attempt() + ": " + what);
            JobCondition stalled = condition(s, STALLED);
            if (stalled != null && "True".equals(stalled.status)) {
                set(s, generation, STALLED, false, "Progressing", "attempt " + o.attempt() + ": the trainer is taking steps");
            }
        } else if (o.deleting()) {
            s.phase = o.disruption() != null ? JobPhase.Preempted : JobPhase.Checkpointing;
            set(s, generation, RUNNING, false, o.disruption() != null ? o.disruption() : "PodTerminating",
                    "attempt " + o.attempt() + ": pod terminating; the trainer checkpoints before it exits");
        } else {
            s.phase = JobPhase.Pending;
            String reason = o.waiting() != null ? o.waiting() : "PodPending";
            String message = "attempt " + o.attempt() + ": pod pending" + (o.waitingMessage() != null ? ": " + o.waitingMessage() : "");
            set(s, generation, RUNNING, false, reason, message);
        }
        copyReport(s, o.live());
        copyReport(s, o.report());
        checkpoints(s, generation, o.report() != null ? o.report() : o.live());
    }

    /**
     * {@code CheckpointHealthy} from what the trainer reports: False with its message while saves fail (it retries
     * each interval and stops after three in a row), True once one has succeeded. Unset until the trainer says either.
     */
    void checkpoints(TrainingJobStatus s, long generation, TrainerReport r) {
        if (r == null) {
            return;
        }
        if (r.checkpointFailures != null && r.checkpointFailures > 0) {
            set(s, generation, CHECKPOINT_HEALTHY, false, "SaveFailed", r.checkpointError != null ? r.checkpointError
                    : r.checkpointFailures + " checkpoint saves failed in a row");
        } else if (r.lastCheckpoint != null) {
            set(s, generation, CHECKPOINT_HEALTHY, true, "Saved", "the trainer's last checkpoint save succeeded");
        }
    }

    /** The job's phase while its pod runs, from the trainer's: a pure mapping, total over every trainer phase. */
    static JobPhase trainerPhase(TrainerReport live) {
        TrainerPhase p = live == null || live.phase == null ? TrainerPhase.Starting : live.phase;
        return switch (p) {
            case Tuning -> JobPhase.Tuning;
            case Checkpointing, Preempted -> JobPhase.Checkpointing;
            // Starting, Running, no answer yet, an ending the pod still shows, or a phase newer than this code: the pod runs
            case Starting, Running, Succeeded, Failed, Unknown -> JobPhase.Running;
        };
    }

    public JobEvent succeeded(TrainingJobStatus s, long generation, AttemptObservation o) {
        boolean was = s.phase == JobPhase.Succeeded;
        copyReport(s, o.report());
        s.phase = JobPhase.Succeeded;
        if (s.completionTime == null) {
            s.completionTime = now();
        }
        String message = o.report() != null && o.report().message != null ? o.report().message : "the trainer finished";
        boolean target = o.report() != null && Boolean.TRUE.equals(o.report().targetReached);
        set(s, generation, RUNNING, false, "PodSucceeded", "attempt " + o.attempt() + " finished");
        set(s, generation, COMPLETE, true, target ? "TargetReached" : "Finished", message);
        set(s, generation, FAILED, false, "Finished", message);
        clearSuspended(s, generation, "Finished", "the job finished");
        if (was) {
            return null;
        }
        String metric = s.progress != null && s.progress.metric != null ? String.format(java.util.Locale.ROOT, ", test %s %.4f",
                s.progress.metricName == null ? "metric" : s.progress.metricName, s.progress.metric) : "";
        String ttt = s.progress != null && s.progress.trainingTimeToTargetSeconds != null
                ? String.format(", target reached after %.1f s of training", s.progress.trainingTimeToTargetSeconds) : "";
        return new JobEvent(JobEvent.NORMAL, "Completed", "attempt " + o.attempt() + " finished: " + message + metric + ttt,
                o.attempt());
    }

    /** The attempt ended by preemption (eviction, deletion, or the trainer's preemption exit code). */
    public JobEvent preempted(TrainingJobStatus s, long generation, AttemptObservation o, String reason) {
        copyReport(s, o.report());
        s.preemptions = (s.preemptions == null ? 0 : s.preemptions) + 1;
        s.phase = JobPhase.Preempted;
        String from = resumesFrom(s);
        set(s, generation, RUNNING, false, reason, "attempt " + o.attempt() + " was preempted (" + reason
                + "); the next attempt resumes from " + from);
        return new JobEvent(JobEvent.WARNING, "Preempted", "attempt " + o.attempt() + " preempted (" + reason
                + "); attempt " + (o.attempt() + 1) + " resumes from " + from, o.attempt());
    }

    /** The attempt failed; {@code last} when no retry follows (backoffLimit reached or a config error). */
    public JobEvent attemptFailed(TrainingJobStatus s, long generation, AttemptObservation o, String reason, String message,
            boolean last) {
        copyReport(s, o.report());
        checkpoints(s, generation, o.report());
        s.failures = (s.failures == null ? 0 : s.failures) + 1;
        set(s, generation, RUNNING, false, reason, "attempt " + o.attempt() + " failed: " + message);
        if (last) {
            s.phase = JobPhase.Failed;
            s.completionTime = now();
            set(s, generation, FAILED, true, reason, message);
            set(s, generation, COMPLETE, false, reason, message);
            clearSuspended(s, generation, "Finished", "the job finished");
            return new JobEvent(JobEvent.WARNING, reason, "attempt " + o.attempt() + " failed; the job failed: " + message,
                    o.attempt());
        }
        return new JobEvent(JobEvent.WARNING, "AttemptFailed", "attempt " + o.attempt() + " failed (" + reason + "): "
                + message + "; attempt " + (o.attempt() + 1) + " follows", o.attempt());
    }

    /** A failed attempt waits for its back-off before the next one is started (nothing is counted yet). */
    public void backingOff(TrainingJobStatus s, long generation, AttemptObservation o, String reason, String message,
            long waitSeconds) {
        s.phase = JobPhase.Pending;
        set(s, generation, RUNNING, false, "BackOff", "attempt " + o.attempt() + " failed (" + reason + ": " + message
                + "); next attempt in " + waitSeconds + "s");
    }

    /** spec.suspend is true and the attempt's pod is being stopped; the trainer checkpoints before it exits. */
    public void suspending(TrainingJobStatus s, long generation, AttemptObservation o) {
        copyReport(s, o.live());
        s.phase = JobPhase.Suspended;
        String message = "attempt " + o.attempt() + ": stopping the trainer pod; it checkpoints before it exits";
        set(s, generation, SUSPENDED, true, "Suspending", message);
        set(s, generation, RUNNING, false, "Suspending", message);
    }

    /**
     * spec.suspend is true and no pod runs: either the attempt's pod has stopped (its termination message is copied:
     * the checkpoint it wrote at SIGTERM) or none was started. Neither a preemption nor a failure.
     */
    public JobEvent suspended(TrainingJobStatus s, long generation, AttemptObservation o) {
        boolean was = suspensionRecorded(s);
        if (was && !o.exists()) {
            return null; // recorded when the pod ended; its pod has been released since
        }
        copyReport(s, o.report());
        s.phase = JobPhase.Suspended;
        String message;
        if (o.attempt() == 0) {
            message = "suspended before its first attempt";
        } else {
            message = "attempt " + o.attempt() + " stopped"
                    + (o.exitCode() != null ? " (exit code " + o.exitCode() + ")" : "")
                    + (s.lastCheckpoint != null ? "; last checkpoint at step " + s.lastCheckpoint.step : "; no checkpoint yet");
        }
        set(s, generation, SUSPENDED, true, SUSPENDED, message);
        set(s, generation, RUNNING, false, SUSPENDED, message);
        return was ? null : new JobEvent(JobEvent.NORMAL, SUSPENDED, message, o.attempt());
    }

    /** spec.suspend went back to false: attempt {@code next} starts and resumes from the last checkpoint. */
    public JobEvent resumed(TrainingJobStatus s, long generation, int next) {
        JobCondition c = condition(s, SUSPENDED);
        if (c == null || !"True".equals(c.status)) {
            return null;
        }
        String message = "attempt " + next + " resumes from " + resumesFrom(s);
        set(s, generation, SUSPENDED, false, "Resumed", message);
        return new JobEvent(JobEvent.NORMAL, "Resumed", message, next);
    }

    private void clearSuspended(TrainingJobStatus s, long generation, String reason, String message) {
        JobCondition c = condition(s, SUSPENDED);
        if (c != null && "True".equals(c.status)) {
            set(s, generation, SUSPENDED, false, reason, message);
        }
    }

    private static String resumesFrom(TrainingJobStatus s) {
        return s.lastCheckpoint != null ? "the checkpoint at step " + s.lastCheckpoint.step : "the start (no checkpoint yet)";
    }

    /**
     * Copies what the trainer reports. Its time to target (training seconds) goes to
     * {@code progress.trainingTimeToTargetSeconds} and stays there; {@code status.timeToTargetSeconds} is the
     * wall-clock figure of the cost ledger (docs/cost.md).
     */
    private void copyReport(TrainingJobStatus s, TrainerReport r) {
        if (r == null) {
            return;
        }
        Double trainingToTarget = r.trainingTimeToTargetSeconds != null ? r.trainingTimeToTargetSeconds
                : s.progress != null ? s.progress.trainingTimeToTargetSeconds : null;
        if (r.progress != null) s.progress = copy(r.progress); // never the poller's cached object
        if (s.progress != null && trainingToTarget != null) s.progress.trainingTimeToTargetSeconds = trainingToTarget;
        if (r.lastCheckpoint != null) {
            // A resumed attempt reports the checkpoint it loaded, with no save time of its own: the last measured one
            // still sizes the next pod's grace period (GracePeriod).
            Double measured = s.lastCheckpoint == null ? null : s.lastCheckpoint.saveSeconds;
            s.lastCheckpoint = JSON.convertValue(r.lastCheckpoint, CheckpointRef.class);
            if (s.lastCheckpoint.saveSeconds == null) s.lastCheckpoint.saveSeconds = measured;
        }
        if (r.tunedBatch != null) s.tunedBatch = r.tunedBatch;
        if (r.model != null) s.model = r.model;
    }

    private static Progress copy(Progress p) {
        return JSON.convertValue(p, Progress.class);
    }

    /**
     * The price of the attempt that just began (docs/cost.md): condition {@code Priced} True with where the price
     * came from, or False with why there is none (UnknownGpuType, GpuTypeMissing, NoCpuOrMemoryRequested,
     * NoPriceTable). An unpriced job still runs; its attempts cost 0 and their time and GPU-seconds are counted.
     */
    public void priced(TrainingJobStatus s, long generation, int attempt, PriceQuote q) {
        if (q.priced()) {
            set(s, generation, PRICED, true, "Priced", String.format(Locale.ROOT, "attempt %d: $%.4f/hour (%s, %s)",
                    attempt, q.pricePerHour(), q.source(), q.capacity()));
        } else {
            set(s, generation, PRICED, false, q.reason(), "attempt " + attempt + " runs at cost 0: " + q.message());
        }
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
