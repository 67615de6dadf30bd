package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.reconcile.GracePeriod;
import dev.goodput.operator.status.StatusAggregator;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;

/** Tier-1 unit tests of the decisions the reconciler takes; the apiserver tests cover the wiring. */
class ReconcileDecisionsTest {
    static AttemptObservation ended(Integer exitCode, String disruption) {
        return new AttemptObservation(1, null, "Failed", exitCode, null, disruption, null, null, disruption != null);
    }

    @Test
    void preemptionIsADisruptionTargetOrTheTrainersPreemptionExitCode() {
        assertThat(TrainingJobReconciler.preemptionReason(ended(143, "EvictionByEvictionAPI"))).isEqualTo("EvictionByEvictionAPI");
        assertThat(TrainingJobReconciler.preemptionReason(ended(137, "PreemptionByScheduler"))).isEqualTo("PreemptionByScheduler");
        assertThat(TrainingJobReconciler.preemptionReason(ended(75, null))).isEqualTo("TrainerPreempted");
        assertThat(TrainingJobReconciler.preemptionReason(ended(1, null))).isNull();
        assertThat(TrainingJobReconciler.preemptionReason(ended(137, null))).as("OOMKilled is a failure").isNull();
    }

    @Test
    void failureBackoffDoublesUpToTheCeiling() {
        var r = new TrainingJobReconciler(OperatorSettings.defaults());
        assertThat(r.backoff(0)).isEqualTo(Duration.ofSeconds(10));
        assertThat(r.backoff(1)).isEqualTo(Duration.ofSeconds(20));
        assertThat(r.backoff(4)).isEqualTo(Duration.ofSeconds(160));
        assertThat(r.backoff(5)).isEqualTo(Duration.ofMinutes(5));
        assertThat(r.backoff(60)).isEqualTo(Duration.ofMinutes(5));
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
}
