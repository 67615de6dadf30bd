package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.attempt.AttemptStateMachine;
import dev.goodput.operator.attempt.AttemptStateMachine.StatusView;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.reconcile.GracePeriod;
import dev.goodput.operator.status.StatusAggregator;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.observe.ProgressPoller;
import dev.goodput.operator.status.JobEvent;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/**
 * Tier-1 unit tests of how status reads ({@link StatusAggregator}), what is observed and how pods are built; the attempt
 * state machine has its table in AttemptStateMachineTest, and the apiserver tests cover the wiring.
 */
class ReconcileDecisionsTest {
    @Test
    void checkpointHealthFollowsWhatTheTrainerReports() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        aggregator.observed(s, 1, running("Running", 10));
        assertThat(StatusAggregator.condition(s, StatusAggregator.CHECKPOINT_HEALTHY)).satisfies(c -> {
            assertThat(c.status).isEqualTo("True");
            assertThat(c.reason).isEqualTo("Saved");
        });
        AttemptObservation failing = running("Running", 20);
        failing.live().checkpointFailures = 2;
        failing.live().checkpointError = "checkpoint at step 20 failed: disk full (No space left on device); the previous"
                + " checkpoint (step 10) is still the newest (2 failed saves in a row)";
        aggregator.observed(s, 1, failing);
        assertThat(StatusAggregator.condition(s, StatusAggregator.CHECKPOINT_HEALTHY)).satisfies(c -> {
            assertThat(c.status).isEqualTo("False");
            assertThat(c.reason).isEqualTo("SaveFailed");
            assertThat(c.message).contains("disk full").contains("step 10");
        });
        aggregator.observed(s, 1, running("Running", 30));
        assertThat(StatusAggregator.condition(s, StatusAggregator.CHECKPOINT_HEALTHY).status).isEqualTo("True");
    }

    @Test
    void gracePeriodCoversTheLastSaveWithinFloorAndCeiling() {
        var settings = OperatorSettings.defaults();
        CheckpointRef fast = new CheckpointRef();
        fast.saveSeconds = 0.5;
        CheckpointRef slow = new CheckpointRef();
        slow.saveSeconds = 100.0;
        CheckpointRef huge = new CheckpointRef();
        huge.saveSeconds = 1000.0;
        assertThat(GracePeriod.seconds(null, null, settings)).isEqualTo(30);
        assertThat(GracePeriod.seconds(null, fast, settings)).isEqualTo(30);
        assertThat(GracePeriod.seconds(null, slow, settings)).isEqualTo(215);
        assertThat(GracePeriod.seconds(null, huge, settings)).isEqualTo(600);
        assertThat(GracePeriod.seconds(7, huge, settings)).isEqualTo(7);
    }

    @Test
    void aResumedAttemptKeepsTheMeasuredSaveTimeThatSizesTheNextGracePeriod() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        AttemptObservation saved = running("Running", 100);
        saved.live().lastCheckpoint.saveSeconds = 40.0;
        saved.live().lastCheckpoint.parametersSha256 = "aa";
        aggregator.observed(s, 1, saved);
        // The next attempt reports the checkpoint it loaded: no save of its own was timed.
        AttemptObservation resumed = running("Running", 120);
        resumed.live().lastCheckpoint.parametersSha256 = "bb";
        aggregator.observed(s, 1, resumed);
        assertThat(s.lastCheckpoint.step).isEqualTo(119);
        assertThat(s.lastCheckpoint.parametersSha256).isEqualTo("bb");
        assertThat(s.lastCheckpoint.saveSeconds).isEqualTo(40.0);
        assertThat(resumed.live().lastCheckpoint.saveSeconds).as("the poller's report is not changed").isNull();
        assertThat(GracePeriod.seconds(null, s.lastCheckpoint, OperatorSettings.defaults())).isEqualTo(95);
    }

    @Test
    void conditionsKeepTheirTransitionTimeWhileTheirStatusHolds() {
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        TrainingJobStatus s = new TrainingJobStatus();
        new StatusAggregator(Clock.fixed(t0, ZoneOffset.UTC)).valid(s, 1);
        new StatusAggregator(Clock.fixed(t0.plusSeconds(60), ZoneOffset.UTC)).valid(s, 2);
        assertThat(s.conditions).singleElement().satisfies(c -> {
            assertThat(c.lastTransitionTime).isEqualTo("2026-01-01T00:00:00Z");
            assertThat(c.observedGeneration).isEqualTo(2L);
        });
        new StatusAggregator(Clock.fixed(t0.plusSeconds(120), ZoneOffset.UTC))
                .invalid(s, 3, "ClaimNotFound", java.util.List.of("spec.checkpoint.claimName: not found"));
        assertThat(s.conditions.get(0).status).isEqualTo("False");
        assertThat(s.conditions.get(0).lastTransitionTime).isEqualTo("2026-01-01T00:02:00Z");
    }

    static AttemptObservation running(String trainerPhase, long step) {
        TrainerReport live = new TrainerReport();
        live.phase = trainerPhase == null ? null : TrainerPhase.valueOf(trainerPhase);
        live.progress = new Progress();
        live.progress.step = step;
        live.progress.samplesPerSecond = 1234.5;
        live.lastCheckpoint = new CheckpointRef();
        live.lastCheckpoint.step = step - 1;
        live.tunedBatch = new TunedBatch();
        live.tunedBatch.micro = 32;
        return new AttemptObservation(1, new PodBuilder().build(), "Running", null, null, live, null, null, null, false,
                false, null, null);
    }

    @Test
    void whileThePodRunsPhaseAndProgressFollowTheTrainersProgressReport() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        aggregator.observed(s, 1, running("Tuning", 1));
        assertThat(s.phase).isEqualTo(JobPhase.Tuning);
        assertThat(StatusAggregator.condition(s, "Running").reason).isEqualTo("Tuning");
        aggregator.observed(s, 1, running("Checkpointing", 50));
        assertThat(s.phase).isEqualTo(JobPhase.Checkpointing);
        aggregator.observed(s, 1, running("Starting", 0));
        assertThat(s.phase).isEqualTo(JobPhase.Running);
        assertThat(StatusAggregator.condition(s, "Running").reason).as("the pod runs, no step yet").isEqualTo("Starting");
        aggregator.observed(s, 1, running("Running", 120));
        assertThat(s.phase).isEqualTo(JobPhase.Running);
        assertThat(StatusAggregator.condition(s, "Running").reason).isEqualTo("Training");
        assertThat(StatusAggregator.condition(s, "Running").message).isEqualTo("attempt 1: training");
        assertThat(s.progress.step).isEqualTo(120);
        assertThat(s.progress.samplesPerSecond).isEqualTo(1234.5);
        assertThat(s.lastCheckpoint.step).isEqualTo(119);
        assertThat(s.tunedBatch.micro).isEqualTo(32);
        assertThat(StatusAggregator.condition(s, "Running").status).isEqualTo("True");
    }

    @Test
    void theTrainedModelTheTrainerReportsBecomesStatusModel() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        AttemptObservation done = running("Succeeded", 300);
        done.live().model = new dev.goodput.api.status.ModelOutput();
        done.live().model.path = "/checkpoints/job/model";
        done.live().model.format = "safetensors";
        done.live().model.sha256 = "ab".repeat(32);
        aggregator.observed(s, 1, done);
        assertThat(s.model.path).isEqualTo("/checkpoints/job/model");
        assertThat(s.model.format).isEqualTo("safetensors");
        // A later report without one (the next attempt's pod starting) does not erase it.
        aggregator.observed(s, 1, running("Starting", 0));
        assertThat(s.model.sha256).isEqualTo("ab".repeat(32));
    }

    @Test
    void aSuspensionIsRecordedOnceCountsNothingAndResumingClearsIt() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        aggregator.attemptStarted(s, 1, 1, 1, "{}");
        aggregator.suspending(s, 2, running("Running", 10));
        assertThat(s.phase).isEqualTo(JobPhase.Suspended);
        assertThat(StatusAggregator.suspensionRecorded(s)).as("the pod still checkpoints").isFalse();
        assertThat(StatusView.of(s).recordsEndOf(1)).isFalse();

        TrainerReport exit = new TrainerReport();
        exit.lastCheckpoint = new CheckpointRef();
        exit.lastCheckpoint.step = 12;
        var stopped = new AttemptObservation(1, new PodBuilder().build(), "Failed", 75, exit, null, null, null, null, true,
                true, AttemptStateMachine.STOP_SUSPENDED, null);
        JobEvent event = aggregator.suspended(s, 2, stopped);
        assertThat(event.reason()).isEqualTo("Suspended");
        assertThat(event.message()).isEqualTo("attempt 1 stopped (exit code 75); last checkpoint at step 12");
        assertThat(StatusAggregator.suspensionRecorded(s)).isTrue();
        assertThat(StatusView.of(s).recordsEndOf(1)).as("pod 1 may be released").isTrue();
        assertThat(aggregator.suspended(s, 2, stopped)).as("recorded once").isNull();
        assertThat(aggregator.suspended(s, 2, AttemptObservation.none(1))).as("pod released since").isNull();
        assertThat(StatusAggregator.condition(s, "Suspended").message).contains("exit code 75");
        assertThat(s.preemptions).isNull();
        assertThat(s.failures).isNull();

        JobEvent resumed = aggregator.resumed(s, 3, 2);
        assertThat(resumed.message()).isEqualTo("attempt 2 resumes from the checkpoint at step 12");
        assertThat(StatusAggregator.condition(s, "Suspended").status).isEqualTo("False");
        assertThat(aggregator.resumed(s, 3, 2)).isNull();
    }

    @Test
    void aPodDeletedLongAgoOnANodeThatDoesNotAnswerHasEnded() {
        Instant now = Instant.parse("2026-01-01T00:10:00Z");
        JobObserver observer = new JobObserver(Clock.fixed(now, ZoneOffset.UTC));
        java.util.function.Function<Instant, Pod> deleted = at -> new PodBuilder().withNewMetadata().withName("p")
                .withUid("u").withDeletionTimestamp(at.toString()).endMetadata()
                .withNewSpec().withNodeName("n").endSpec().withNewStatus().withPhase("Running").endStatus().build();
        assertThat(observer.observe(deleted.apply(now.minusSeconds(10)), 1, null).ended()).isFalse();
        assertThat(observer.observe(deleted.apply(now.minusSeconds(120)), 1, null).ended()).isTrue();
        Pod unscheduled = new PodBuilder().withNewMetadata().withName("p").withUid("u")
                .withDeletionTimestamp(now.toString()).endMetadata().withNewSpec().endSpec().build();
        assertThat(observer.observe(unscheduled, 1, null).ended()).as("never ran").isTrue();
    }

    @Test
    void theProgressAddressIsThePodIpAndItsNamedMetricsPort() {
        Pod pod = new PodBuilder().withNewSpec().addNewContainer().withName("trainer").addNewPort().withName("metrics")
                .withContainerPort(9400).endPort().endContainer().endSpec().withNewStatus().withPodIP("10.1.2.3")
                .endStatus().build();
        assertThat(ProgressPoller.progressUri(pod)).hasToString("http://10.1.2.3:9400/progress");
        pod.getStatus().setPodIP("fd00::5");
        assertThat(ProgressPoller.progressUri(pod)).hasToString("http://[fd00::5]:9400/progress");
        pod.getStatus().setPodIP(null);
        assertThat(ProgressPoller.progressUri(pod)).isNull();
    }

    @Test
    void thePricedConditionSaysWhereTheAttemptsPriceCameFromOrWhyThereIsNone() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        var table = PriceTable.parse("gpu: {nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}}", "test");
        var spec = new dev.goodput.api.spec.TrainingJobSpec();
        spec.resources.gpus = 4;
        spec.resources.gpuType = "nvidia-h100-80gb";
        spec.resources.spot = true;
        aggregator.priced(s, 1, 1, table.quote(spec));
        assertThat(StatusAggregator.condition(s, "Priced")).satisfies(c -> {
            assertThat(c.status).isEqualTo("True");
            assertThat(c.reason).isEqualTo("Priced");
            assertThat(c.message).isEqualTo("attempt 1: $10.0000/hour (pricing.gpu.nvidia-h100-80gb.spot x 4, spot)");
        });
        spec.resources.gpuType = "tpu-v9";
        aggregator.priced(s, 1, 2, table.quote(spec));
        assertThat(StatusAggregator.condition(s, "Priced")).satisfies(c -> {
            assertThat(c.status).isEqualTo("False");
            assertThat(c.reason).isEqualTo("UnknownGpuType");
            assertThat(c.message).startsWith("attempt 2 runs at cost 0: GPU type 'tpu-v9' has no price");
        });
    }

    @Test
    void theTrainersTimeToTargetIsKeptInProgressWhileStatusShowsTheWallClockFigure() {
        var aggregator = new StatusAggregator(Clock.systemUTC());
        TrainingJobStatus s = new TrainingJobStatus();
        AttemptObservation r = running("Running", 40);
        r.live().trainingTimeToTargetSeconds = 12.5;
        r.live().targetReached = true;
        aggregator.observed(s, 1, r);
        assertThat(s.progress.trainingTimeToTargetSeconds).isEqualTo(12.5);
        assertThat(s.timeToTargetSeconds).as("the ledger's, not the trainer's").isNull();
        assertThat(r.live().progress.trainingTimeToTargetSeconds).as("the poller's sample is not touched").isNull();
        aggregator.observed(s, 1, running("Running", 41)); // a later report without it keeps it
        assertThat(s.progress.step).isEqualTo(41);
        assertThat(s.progress.trainingTimeToTargetSeconds).isEqualTo(12.5);
    }

    @Test
    void theInformerStoresKeepNoManagedFields() {
        var store = new dev.goodput.operator.observe.WithoutManagedFields<Pod>();
        Pod pod = new PodBuilder().withNewMetadata().withName("p").withNamespace("ns").addNewManagedField()
                .withManager("goodput-operator").withOperation("Apply").endManagedField().endMetadata().build();
        store.put(store.getKey(pod), pod);
        assertThat(store.get("ns/p").getMetadata().getManagedFields()).isNullOrEmpty();
        assertThat(store.get("ns/p").getMetadata().getName()).isEqualTo("p");
        assertThat(store.size()).isEqualTo(1);
    }
}
