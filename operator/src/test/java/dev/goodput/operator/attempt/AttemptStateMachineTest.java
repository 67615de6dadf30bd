package dev.goodput.operator.attempt;

import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_GANG;
import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_STALLED;
import static dev.goodput.operator.attempt.AttemptStateMachine.STOP_SUSPENDED;
import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.AttemptOutcome;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.spec.StallSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.Labels;
import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.attempt.AttemptStateMachine.Backoff;
import dev.goodput.operator.attempt.AttemptStateMachine.Close;
import dev.goodput.operator.attempt.AttemptStateMachine.Decision;
import dev.goodput.operator.attempt.AttemptStateMachine.Input;
import dev.goodput.operator.attempt.AttemptStateMachine.Report;
import dev.goodput.operator.attempt.AttemptStateMachine.StatusView;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.observe.ProgressSample;
import dev.goodput.operator.reconcile.PodFinalizers;
import dev.goodput.operator.status.JobEvent;
import dev.goodput.operator.status.StatusAggregator;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodConditionBuilder;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every transition of the attempt state machine, as a table: status and pod as the cluster shows them (observed by the
 * real {@link JobObserver}), the decision, and the event {@link StatusAggregator} records for it. No apiserver.
 */
class AttemptStateMachineTest {
    static final Instant NOW = Instant.parse("2026-01-01T00:10:00Z");
    static final Clock CLOCK = Clock.fixed(NOW, ZoneOffset.UTC);
    static final JobObserver OBSERVER = new JobObserver(CLOCK);
    static final AttemptStateMachine MACHINE = new AttemptStateMachine(Backoff.of(OperatorSettings.defaults()));
    static final ObjectMapper JSON = new ObjectMapper();

    /** One transition: what status says, what is observed, the spec; the decision and the event it brings (or null). */
    record Row(String transition, TrainingJobStatus status, AttemptObservation current, boolean suspend,
            int backoffLimit, StallSpec stall, Decision decision, String event) {
        Row(String transition, TrainingJobStatus status, AttemptObservation current, boolean suspend, int backoffLimit,
                Decision decision, String event) {
            this(transition, status, current, suspend, backoffLimit, null, decision, event);
        }

        @Override
        public String toString() {
            return transition;
        }
    }

    static Row row(String transition, TrainingJobStatus status, AttemptObservation current, boolean suspend,
            Decision decision, String event) {
        return new Row(transition, status, current, suspend, 3, decision, event);
    }

    static Decision decision(Close close, Report report, Integer start, Duration retryAfter) {
        return new Decision(false, null, close, report, start, retryAfter);
    }

    static Decision preempted(String reason) {
        return decision(new Close(AttemptOutcome.Preempted, reason), new Report.Preempted(reason), 2, null);
    }

    static Stream<Row> transitions() {
        return Stream.of(
                // attempt 0: no pod yet
                row("a new job starts attempt 1", status(0, 0), AttemptObservation.none(0), false,
                        decision(null, new Report.Resumed(1), 1, null), null),
                row("a job created suspended starts nothing", status(0, 0), AttemptObservation.none(0), true,
                        decision(null, new Report.Suspended(), null, null), "Suspended"),
                row("resuming a job suspended before its first attempt starts attempt 1", suspended(0),
                        AttemptObservation.none(0), false, decision(null, new Report.Resumed(1), 1, null), "Resumed"),

                // the pod has not ended
                row("a pending pod is observed", status(1, 0), seen(pod(1, "Pending")), false,
                        new Decision(false, null, null, new Report.Observed(), null, null), null),
                row("a running pod is observed and its /progress polled", status(1, 0), seen(running()), false,
                        new Decision(true, null, null, new Report.Observed(), null, null), null),
                row("a terminating pod is observed until it ends, not polled", status(1, 0),
                        seen(deleting(running(), NOW.minusSeconds(10))), false,
                        new Decision(false, null, null, new Report.Observed(), null, null), null),
                row("suspend while running stops the pod", status(1, 0), seen(running()), true,
                        new Decision(false, STOP_SUSPENDED, null, new Report.Suspending(), null, null), null),

                // stalls (spec.stall.timeout 2m here)
                new Row("a running trainer whose steps stand still past its timeout is Stalled", status(1, 0),
                        steppedAgo(Duration.ofMinutes(5)), false, 3, stall("2m", null),
                        new Decision(true, null, null, new Report.Stalled(Duration.ofMinutes(5), false), null, null), "Stalled"),
                new Row("a stalled trainer with stall.restart is stopped", status(1, 0), steppedAgo(Duration.ofMinutes(5)),
                        false, 3, stall("2m", true),
                        new Decision(false, STOP_STALLED, null, new Report.Stalled(Duration.ofMinutes(5), true), null, null),
                        "Stalled"),
                new Row("steps within the timeout: observed, and looked at again when the stall would be due", status(1, 0),
                        steppedAgo(Duration.ofSeconds(90)), false, 3, stall("2m", true),
                        new Decision(true, null, null, new Report.Observed(), null, Duration.ofSeconds(31)), null),
                new Row("the pod stopped for a stall is a failure that backs off, whatever its exit code", status(1, 0),
                        seen(stoppedBy(STOP_STALLED, exited(75, null, NOW.minusSeconds(4)))), false, 3, stall("2m", true),
                        decision(new Close(AttemptOutcome.Failed, "Stalled"), new Report.BackingOff("Stalled", "the trainer took no"
                                + " training step for longer than its stall timeout (spec.stall.timeout); its pod was"
                                + " stopped and the next attempt resumes from the last checkpoint", 6), null,
                                Duration.ofSeconds(6)), null),

                // suspension
                row("suspended: the stopped pod's attempt closes as Suspended", status(1, 0),
                        seen(stoppedBy(STOP_SUSPENDED, exited(75, null, null))), true,
                        decision(new Close(AttemptOutcome.Preempted, STOP_SUSPENDED), new Report.Suspended(), null, null), "Suspended"),
                row("suspended with no pod (released since): nothing new", suspended(1), AttemptObservation.none(1), true,
                        decision(new Close(AttemptOutcome.Preempted, STOP_SUSPENDED), new Report.Suspended(), null, null), null),
                row("resume after suspension starts the next attempt", suspended(1),
                        seen(stoppedBy(STOP_SUSPENDED, exited(75, null, null))), false,
                        decision(new Close(AttemptOutcome.Preempted, STOP_SUSPENDED), new Report.Resumed(2), 2, null), "Resumed"),
                row("resume after suspension, the pod released since", suspended(1), AttemptObservation.none(1), false,
                        decision(new Close(AttemptOutcome.Preempted, STOP_SUSPENDED), new Report.Resumed(2), 2, null), "Resumed"),

                // preemptions: the next attempt at once, no back-off, not counted against backoffLimit
                row("preempted by the scheduler", status(1, 3),
                        seen(disrupted("PreemptionByScheduler", deleting(exited(143, null, null), NOW))), false,
                        preempted("PreemptionByScheduler"), "Preempted"),
                row("evicted through the Eviction API", status(1, 0),
                        seen(disrupted("EvictionByEvictionAPI", deleting(exited(143, null, null), NOW))), false,
                        preempted("EvictionByEvictionAPI"), "Preempted"),
                row("deleted by the taint manager", status(1, 0),
                        seen(disrupted("DeletionByTaintManager", deleting(exited(137, null, null), NOW))), false,
                        preempted("DeletionByTaintManager"), "Preempted"),
                row("terminated by the kubelet (no deletion)", status(1, 0),
                        seen(disrupted("TerminationByKubelet", exited(137, null, null))), false,
                        preempted("TerminationByKubelet"), "Preempted"),
                row("pod deleted by someone else", status(1, 0), seen(deleting(exited(143, null, null), NOW)), false,
                        preempted("PodDeleted"), "Preempted"),
                row("pod deleted before it ran", status(1, 0), seen(deleting(pod(1, "Pending"), NOW)), false,
                        preempted("PodDeleted"), "Preempted"),
                row("pod gone", status(1, 0), AttemptObservation.none(1), false, preempted("PodDeleted"), "Preempted"),
                row("the trainer's exit 75 (checkpointed on SIGTERM)", status(1, 0), seen(exited(75, null, null)), false,
                        preempted("TrainerPreempted"), "Preempted"),

                // failures
                row("exit 74 on a preempted pod is a failure: its checkpoint was lost", status(1, 0),
                        seen(disrupted("EvictionByEvictionAPI", deleting(exited(74, null, NOW.minusSeconds(60)), NOW))),
                        false, decision(new Close(AttemptOutcome.Failed, "CheckpointFailed"),
                                new Report.Failed("CheckpointFailed", "exit code 74", false), 2, null), "AttemptFailed"),
                row("exit 74 backs off like any failure", status(1, 0), seen(exited(74, null, NOW.minusSeconds(4))),
                        false, decision(new Close(AttemptOutcome.Failed, "CheckpointFailed"),
                                new Report.BackingOff("CheckpointFailed", "exit code 74", 6), null, Duration.ofSeconds(6)),
                        null),
                row("exit 78 before training: ConfigError, no retry", status(1, 0),
                        seen(exited(78, "{\"message\":\"spec.model: unknown model\"}", NOW.minusSeconds(60))), false,
                        decision(new Close(AttemptOutcome.Failed, "ConfigError"),
                                new Report.Failed("ConfigError", "spec.model: unknown model", true), null, null), "ConfigError"),
                row("a failure waits for its back-off", status(1, 0), seen(exited(1, null, NOW.minusSeconds(4))), false,
                        decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.BackingOff("PodFailed", "exit code 1", 6),
                                null, Duration.ofSeconds(6)), null),
                row("the back-off doubles with each failure", status(1, 2), seen(exited(1, null, NOW.minusSeconds(10))),
                        false, decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.BackingOff("PodFailed", "exit code 1", 30),
                                null, Duration.ofSeconds(30)), null),
                row("a failure whose finish time is unknown waits the whole back-off from now", status(1, 0),
                        seen(exited(1, null, null)), false, decision(new Close(AttemptOutcome.Failed, "PodFailed"),
                                new Report.BackingOff("PodFailed", "exit code 1", 10), null, Duration.ofSeconds(10)), null),
                row("back-off over: the next attempt starts", status(1, 0), seen(exited(1, null, NOW.minusSeconds(10))),
                        false, decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.Failed("PodFailed", "exit code 1", false),
                                2, null), "AttemptFailed"),
                row("OOMKilled", status(1, 0), seen(oomKilled()), false, decision(new Close(AttemptOutcome.Failed, "OOMKilled"),
                        new Report.Failed("OOMKilled", "the trainer ran out of memory: the kernel killed it at the"
                                + " container's limit (the namespace's default memory limit); raise spec.resources.memory,"
                                + " or spec.training.batchMargin so the tuned micro-batch leaves more room", false), 2, null),
                        "AttemptFailed"),
                row("a failure over backoffLimit ends the job", status(1, 3), seen(exited(1, null, NOW.minusSeconds(60))),
                        false, decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.Failed("BackoffLimitExceeded",
                                "exit code 1 (4 failures, backoffLimit 3)", true), null, null), "BackoffLimitExceeded"),
                new Row("backoffLimit 0: the first failure ends the job", status(1, 0),
                        seen(exited(1, "disk on fire", NOW.minusSeconds(60))), false, 0,
                        decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.Failed("BackoffLimitExceeded",
                                "disk on fire (1 failures, backoffLimit 0)", true), null, null), "BackoffLimitExceeded"),

                // success, and after
                row("succeeded with the target reached", status(1, 0),
                        seen(succeeded("{\"targetReached\":true,\"message\":\"target reached\"}")), false,
                        decision(new Close(AttemptOutcome.Succeeded, "TargetReached"), new Report.Succeeded(), null, null), "Completed"),
                row("succeeded without reaching the target", status(1, 0), seen(succeeded(null)), false,
                        decision(new Close(AttemptOutcome.Succeeded, "Finished"), new Report.Succeeded(), null, null), "Completed"),
                row("a finished job has nothing left to decide", finished("Failed"), seen(exited(1, null, null)), false,
                        Decision.FINISHED, null),

                // a gang of pods (spec.resources.workers > 1): one attempt, one outcome
                row("a gang whose pods all run is rank 0's: observed, its /progress polled", status(1, 0),
                        gang(running(), running(), pod(1, "Pending")), false,
                        new Decision(true, null, null, new Report.Observed(), null, null), null),
                row("a gang whose rank 1 has succeeded while rank 0 still runs: rank 0 is waited for", status(1, 0),
                        gang(running(), succeeded(null)), false,
                        new Decision(true, null, null, new Report.Observed(), null, null), null),
                row("one pod of a gang evicted: the others are stopped (they checkpoint), nothing counted yet",
                        status(1, 0), gang(running(), disrupted("EvictionByEvictionAPI", deleting(exited(143, null, null), NOW)),
                                running()), false,
                        new Decision(false, STOP_GANG, null, new Report.GangStopping(), null, null), null),
                row("one pod of a gang gone while the others run: they are stopped", status(1, 0),
                        gang(running(), null), false,
                        new Decision(false, STOP_GANG, null, new Report.GangStopping(), null, null), null),
                row("one pod of a gang failed: the others are stopped, no back-off yet", status(1, 0),
                        gang(exited(1, null, NOW.minusSeconds(4)), running()), false,
                        new Decision(false, STOP_GANG, null, new Report.GangStopping(), null, null), null),
                row("the evicted gang has stopped: one preemption, the eviction's, and the next attempt at once",
                        status(1, 0), gang(stoppedBy(STOP_GANG, exited(75, null, null)),
                                disrupted("EvictionByEvictionAPI", deleting(exited(143, null, null), NOW)),
                                stoppedBy(STOP_GANG, exited(75, null, null))), false,
                        preempted("EvictionByEvictionAPI"), "Preempted"),
                row("the gang with a failed pod has stopped: one failure, that pod's", status(1, 0),
                        gang(stoppedBy(STOP_GANG, exited(75, null, null)), exited(1, null, NOW.minusSeconds(60))), false,
                        decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.Failed("PodFailed", "exit code 1",
                                false), 2, null), "AttemptFailed"),
                row("a lost peer: one pod deleted, the others exited non-zero on their own: one preemption", status(1, 0),
                        gang(exited(1, null, NOW.minusSeconds(60)), deleting(exited(143, null, null), NOW)), false,
                        preempted("PodDeleted"), "Preempted"),
                row("every rank exited 75 on its own after rank 1 was evicted: the eviction is the reason", status(1, 0),
                        gang(exited(75, null, null), disrupted("EvictionByEvictionAPI", deleting(exited(75, null, null), NOW)),
                                exited(75, null, null)), false,
                        preempted("EvictionByEvictionAPI"), "Preempted"),
                row("rank 1 failed and rank 0 then exited 75 on its own: one failure, rank 1's", status(1, 0),
                        gang(exited(75, null, NOW.minusSeconds(60)), exited(1, null, NOW.minusSeconds(60))), false,
                        decision(new Close(AttemptOutcome.Failed, "PodFailed"), new Report.Failed("PodFailed", "exit code 1",
                                false), 2, null), "AttemptFailed"),
                row("rank 0 stopped for the gang could not checkpoint: a failure, though a peer was preempted",
                        status(1, 0), gang(stoppedBy(STOP_GANG, exited(74, null, NOW.minusSeconds(60))),
                                disrupted("PreemptionByScheduler", deleting(exited(143, null, null), NOW))), false,
                        decision(new Close(AttemptOutcome.Failed, "CheckpointFailed"),
                                new Report.Failed("CheckpointFailed", "exit code 74", false), 2, null), "AttemptFailed"),
                row("a gang whose every pod succeeded: rank 0's report (the target) is the job's", status(1, 0),
                        gang(succeeded("{\"targetReached\":true}"), succeeded(null)), false,
                        decision(new Close(AttemptOutcome.Succeeded, "TargetReached"), new Report.Succeeded(), null, null),
                        "Completed"),
                row("suspend while a gang runs stops its pods", status(1, 0), gang(running(), running()), true,
                        new Decision(false, STOP_SUSPENDED, null, new Report.Suspending(), null, null), null),

                // operator restart mid-transition (see also podsAreReleasedOnlyOnceStatusRecordsTheirOutcome)
                row("restart: status says attempt 2, whose pod the synced cache does not hold: it is gone", status(2, 0),
                        AttemptObservation.none(2), false,
                        decision(new Close(AttemptOutcome.Preempted, "PodDeleted"), new Report.Preempted("PodDeleted"), 3, null), "Preempted"),
                row("restart after a lost status write: pod 2 exists, status still says attempt 1 evicted: the same"
                        + " decision, so the same pod 2 is applied again", status(1, 0),
                        seen(disrupted("EvictionByEvictionAPI", deleting(exited(143, null, null), NOW))), false,
                        preempted("EvictionByEvictionAPI"), "Preempted"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("transitions")
    void transition(Row row) {
        TrainingJobSpec spec = new TrainingJobSpec();
        spec.suspend = row.suspend() ? true : null;
        spec.backoffLimit = row.backoffLimit();
        spec.stall = row.stall();
        Decision d = MACHINE.decide(new Input(StatusView.of(row.status()), row.current(), spec, NOW));
        assertThat(d).isEqualTo(row.decision());
        if (d.report() != null) {
            TrainingJobStatus written = JSON.convertValue(row.status(), TrainingJobStatus.class);
            JobEvent event = d.report().write(new StatusAggregator(CLOCK), written, 1, row.current());
            assertThat(event == null ? null : event.reason()).as("event").isEqualTo(row.event());
        }
    }

    @Test
    void theTableHasEveryKindOfReport() {
        Set<Class<?>> inTable = transitions().map(r -> r.decision().report()).filter(r -> r != null)
                .map(Object::getClass).collect(Collectors.toSet());
        assertThat(inTable).containsAll(Arrays.asList(Report.class.getPermittedSubclasses()));
    }

    /** The pod-tracking finalizer goes only once persisted status records how the pod's attempt ended. */
    @Test
    void podsAreReleasedOnlyOnceStatusRecordsTheirOutcome() {
        AttemptObservation ended1 = seen(exited(1, null, null));
        assertThat(PodFinalizers.releasable(StatusView.of(status(2, 0)), ended1)).as("attempt 2 started").isTrue();
        assertThat(PodFinalizers.releasable(StatusView.of(finished("Failed")), ended1)).as("job finished").isTrue();
        assertThat(PodFinalizers.releasable(StatusView.of(suspended(1)), ended1)).as("suspension recorded").isTrue();
        assertThat(PodFinalizers.releasable(StatusView.of(status(1, 0)), ended1))
                .as("restart before the outcome was written: the pod waits").isFalse();
        assertThat(PodFinalizers.releasable(StatusView.of(status(2, 0)), seen(deleting(running(), NOW))))
                .as("still terminating").isFalse();
        Pod released = exited(1, null, null);
        released.getMetadata().setFinalizers(List.of());
        assertThat(PodFinalizers.releasable(StatusView.of(status(2, 0)), seen(released))).as("released").isFalse();
        AttemptObservation ended2 = seen(relabel(exited(1, null, null), 2));
        assertThat(PodFinalizers.releasable(StatusView.of(status(1, 0)), ended2))
                .as("pod 2 exists, status write lost").isFalse();
        assertThat(PodFinalizers.releasable(StatusView.of(status(2, 0)), ended2)).isFalse();
        assertThat(PodFinalizers.releasable(StatusView.of(status(2, 0)), AttemptObservation.none(1))).isFalse();
    }

    @Test
    void deletingTheJobStopsThePodsThatStillRun() {
        Pod running = running();
        Pod ended = exited(75, null, null);
        assertThat(AttemptStateMachine.toStopOnDeletion(List.of(seen(running), seen(ended)))).containsExactly(running);
        assertThat(AttemptStateMachine.toStopOnDeletion(List.of(seen(ended)))).as("then the finalizers go").isEmpty();
        assertThat(AttemptStateMachine.toStopOnDeletion(List.of(seen(deleting(running(), NOW.minusSeconds(120))))))
                .as("on a node that no longer answers").isEmpty();
    }

    @Test
    void failureBackoffDoublesUpToTheCeiling() {
        Backoff b = Backoff.of(OperatorSettings.defaults());
        assertThat(b.after(0)).isEqualTo(Duration.ofSeconds(10));
        assertThat(b.after(1)).isEqualTo(Duration.ofSeconds(20));
        assertThat(b.after(4)).isEqualTo(Duration.ofSeconds(160));
        assertThat(b.after(5)).isEqualTo(Duration.ofMinutes(5));
        assertThat(b.after(60)).isEqualTo(Duration.ofMinutes(5));
    }

    static AttemptObservation ended(Integer exitCode, String disruption) {
        return ended(exitCode, disruption, disruption != null);
    }

    static AttemptObservation ended(Integer exitCode, String disruption, boolean deleting) {
        return new AttemptObservation(1, new PodBuilder().build(), "Failed", exitCode, null, null, disruption, null, null,
                deleting, true, null, null);
    }

    @Test
    void preemptionIsADisruptionTargetOrTheTrainersPreemptionExitCode() {
        assertThat(AttemptStateMachine.preemptionReason(ended(143, "EvictionByEvictionAPI"))).isEqualTo("EvictionByEvictionAPI");
        assertThat(AttemptStateMachine.preemptionReason(ended(137, "PreemptionByScheduler"))).isEqualTo("PreemptionByScheduler");
        assertThat(AttemptStateMachine.preemptionReason(ended(75, null))).isEqualTo("TrainerPreempted");
        assertThat(AttemptStateMachine.preemptionReason(ended(1, null))).isNull();
        assertThat(AttemptStateMachine.preemptionReason(ended(137, null))).as("OOMKilled is a failure").isNull();
        assertThat(AttemptStateMachine.preemptionReason(ended(137, "SomethingElse", false))).as("unknown reason").isNull();
        assertThat(AttemptStateMachine.preemptionReason(ended(143, null, true))).as("deleted by someone").isEqualTo("PodDeleted");
        assertThat(AttemptStateMachine.preemptionReason(ended(75, null, true))).isEqualTo("PodDeleted");
        assertThat(AttemptStateMachine.preemptionReason(AttemptObservation.none(1))).as("gone").isEqualTo("PodDeleted");
    }

    @Test
    void anAttemptWhoseCheckpointFailedIsAFailureEvenWhenItWasPreempted() {
        assertThat(AttemptStateMachine.preemptionReason(ended(74, null))).isNull();
        assertThat(AttemptStateMachine.preemptionReason(ended(74, "EvictionByEvictionAPI"))).isNull();
        assertThat(AttemptStateMachine.preemptionReason(ended(74, null, true))).as("deleted").isNull();
        assertThat(AttemptStateMachine.failureReason(ended(74, "PreemptionByScheduler"))).isEqualTo("CheckpointFailed");
        assertThat(AttemptStateMachine.failureReason(ended(1, null))).isEqualTo("PodFailed");
    }

    @Test
    void statusRecordsAnAttemptsEndOnceALaterOneStartedOrTheJobFinishedOrSuspended() {
        assertThat(StatusView.of(status(2, 0)).recordsEndOf(1)).isTrue();
        assertThat(StatusView.of(status(2, 0)).recordsEndOf(2)).isFalse();
        assertThat(StatusView.of(status(2, 0)).recordsEndOf(3)).as("created, status not written yet").isFalse();
        assertThat(StatusView.of(status(2, 0)).recordsEndOf(0)).as("no attempt 0").isFalse();
        TrainingJobStatus done = status(2, 0);
        done.phase = JobPhase.Succeeded;
        assertThat(StatusView.of(done).recordsEndOf(2)).isTrue();
        assertThat(StatusView.of(suspended(2)).recordsEndOf(2)).isTrue();
    }

    // --- status and pods as the cluster shows them ---

    static TrainingJobStatus status(int attempts, int failures) {
        TrainingJobStatus s = new TrainingJobStatus();
        s.attempts = attempts == 0 ? null : attempts;
        s.failures = failures == 0 ? null : failures;
        s.phase = attempts == 0 ? null : JobPhase.Running;
        return s;
    }

    /** Status once a suspension is recorded: the attempt's pod stopped (or none was started). */
    static TrainingJobStatus suspended(int attempts) {
        TrainingJobStatus s = status(attempts, 0);
        new StatusAggregator(CLOCK).suspended(s, 1, AttemptObservation.none(attempts));
        return s;
    }

    static TrainingJobStatus finished(String phase) {
        TrainingJobStatus s = status(1, 0);
        s.phase = JobPhase.valueOf(phase);
        return s;
    }

    static AttemptObservation seen(Pod p) {
        return OBSERVER.observe(p, JobObserver.attemptOf(p), null);
    }

    static Pod pod(int attempt, String phase) {
        Pod p = new PodBuilder().withNewMetadata().withName("job-" + attempt).withNamespace("ns").withUid("uid-" + attempt)
                .withCreationTimestamp(NOW.minusSeconds(600).toString()).endMetadata()
                .withNewSpec().withNodeName("node-a").endSpec()
                .withNewStatus().withPhase(phase).endStatus().build();
        p.getMetadata().setLabels(new HashMap<>(Map.of(Labels.ATTEMPT, String.valueOf(attempt))));
        p.getMetadata().setFinalizers(new ArrayList<>(List.of(Labels.POD_FINALIZER)));
        p.getStatus().setConditions(new ArrayList<>());
        p.getStatus().setContainerStatuses(new ArrayList<>());
        return p;
    }

    static Pod running() {
        Pod p = pod(1, "Running");
        p.getStatus().getContainerStatuses().add(new ContainerStatusBuilder().withName(JobObserver.TRAINER_CONTAINER)
                .withNewState().withNewRunning().withStartedAt(NOW.minusSeconds(500).toString()).endRunning().endState()
                .build());
        return p;
    }

    /** Attempt 1's pod, Failed: the trainer exited with {@code code}, its termination message, when it finished. */
    static Pod exited(int code, String message, Instant finishedAt) {
        return terminated(pod(1, "Failed"), code, null, message, finishedAt);
    }

    @Test
    void outOfMemorySaysWhichFieldsToChange() {
        TrainingJobSpec spec = new TrainingJobSpec();
        spec.resources = new dev.goodput.api.spec.ResourcesSpec();
        spec.resources.memory = "1Gi";
        spec.training = new dev.goodput.api.spec.TrainingSpec();
        spec.training.batchSize = "256";
        assertThat(AttemptStateMachine.outOfMemory(spec)).isEqualTo("the trainer ran out of memory: the kernel killed it at"
                + " the container's limit (spec.resources.memory: 1Gi); raise spec.resources.memory, lower"
                + " spec.training.batchSize (256), or set it to auto so the trainer fits the micro-batch to the limit");
    }

    static Pod oomKilled() {
        return terminated(pod(1, "Failed"), 137, "OOMKilled", null, NOW.minusSeconds(60));
    }

    static Pod succeeded(String message) {
        return terminated(pod(1, "Succeeded"), 0, "Completed", message, NOW.minusSeconds(1));
    }

    static Pod terminated(Pod p, int code, String reason, String message, Instant finishedAt) {
        p.getStatus().getContainerStatuses().add(new ContainerStatusBuilder().withName(JobObserver.TRAINER_CONTAINER)
                .withNewState().withNewTerminated().withExitCode(code).withReason(reason).withMessage(message)
                .withFinishedAt(finishedAt == null ? null : finishedAt.toString()).endTerminated().endState().build());
        return p;
    }

    static Pod disrupted(String reason, Pod p) {
        p.getStatus().getConditions().add(new PodConditionBuilder().withType("DisruptionTarget").withStatus("True")
                .withReason(reason).build());
        return p;
    }

    static Pod deleting(Pod p, Instant at) {
        p.getMetadata().setDeletionTimestamp(at.toString());
        return p;
    }

    static StallSpec stall(String timeout, Boolean restart) {
        StallSpec s = new StallSpec();
        s.timeout = timeout;
        s.restart = restart;
        return s;
    }

    /** Attempt 1 running, its trainer's /progress saying it is Running and took its last step {@code ago}. */
    static AttemptObservation steppedAgo(Duration ago) {
        Pod p = running();
        TrainerReport live = new TrainerReport();
        live.phase = TrainerPhase.Running;
        live.progress = new Progress();
        live.progress.step = 1234;
        live.progress.lastStepAt = NOW.minus(ago).toString();
        return OBSERVER.observe(p, 1, new ProgressSample(p.getMetadata().getUid(), live, NOW));
    }

    static Pod stoppedBy(String reason, Pod p) {
        p.getMetadata().setAnnotations(new HashMap<>(Map.of(Labels.STOP_REASON, reason)));
        return deleting(p, NOW.minusSeconds(5));
    }

    /**
     * Attempt 1 of a gang, observed as the reconciler observes it ({@link JobObserver#observeRanks}, {@link Gang}):
     * {@code byRank[r]} becomes pod {@code job-1-r} with label goodput.dev/rank and WORLD_SIZE; null: no pod of that rank.
     */
    static AttemptObservation gang(Pod... byRank) {
        return observeGang(byRank).lead();
    }

    static Gang observeGang(Pod... byRank) {
        List<Pod> pods = new ArrayList<>();
        for (int rank = 0; rank < byRank.length; rank++) {
            Pod p = byRank[rank];
            if (p == null) {
                continue;
            }
            p.getMetadata().setName("job-1-" + rank);
            p.getMetadata().setUid("uid-1-" + rank);
            p.getMetadata().getLabels().put(Labels.RANK, String.valueOf(rank));
            p.getSpec().setContainers(List.of(new io.fabric8.kubernetes.api.model.ContainerBuilder()
                    .withName(JobObserver.TRAINER_CONTAINER).addNewEnv().withName("WORLD_SIZE")
                    .withValue(String.valueOf(byRank.length)).endEnv().build()));
            pods.add(p);
        }
        List<AttemptObservation> ranks = OBSERVER.observeRanks(pods, 1, null);
        assertThat(ranks).hasSize(byRank.length);
        return Gang.of(ranks);
    }

    static Pod relabel(Pod p, int attempt) {
        p.getMetadata().getLabels().put(Labels.ATTEMPT, String.valueOf(attempt));
        return p;
    }
}
