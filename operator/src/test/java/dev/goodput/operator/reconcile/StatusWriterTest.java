package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.Accounting;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.AttemptRecords;
import dev.goodput.operator.cost.CostLedger;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class StatusWriterTest {
    @Test
    void aJobIsBilledWhileItsLatestPodIsBoundAndNotEnded() {
        TrainingJobStatus s = new TrainingJobStatus();
        assertThat(StatusWriter.billing(s)).isFalse();
        AttemptRecord r = AttemptRecords.begin(s, 1, Instant.parse("2026-01-01T00:00:00Z"), null, 1);
        assertThat(StatusWriter.billing(s)).as("pending").isFalse();
        r.scheduled = "2026-01-01T00:00:01Z";
        assertThat(StatusWriter.billing(s)).isTrue();
        AttemptRecords.end(r, AttemptOutcome.Preempted, "EvictionByEvictionAPI", Instant.parse("2026-01-01T00:01:00Z"));
        assertThat(StatusWriter.billing(s)).isFalse();
        AttemptRecords.begin(s, 2, Instant.parse("2026-01-01T00:01:05Z"), null, 1);
        assertThat(StatusWriter.billing(s)).as("attempt 2 pending").isFalse();
    }

    @Test
    void whileNothingIsBilledWallTimePassingAloneIsNoReasonToWriteStatus() {
        TrainingJobStatus before = new TrainingJobStatus();
        before.accounting = new Accounting();
        before.accounting.wallSeconds = 10;
        TrainingJobStatus after = new TrainingJobStatus();
        after.accounting = new Accounting();
        after.accounting.wallSeconds = 11;
        assertThat(StatusWriter.sameStatus(before, after, false)).isTrue();
        assertThat(StatusWriter.sameStatus(before, after, true)).isFalse();
        after.cost = 0.01;
        assertThat(StatusWriter.sameStatus(before, after, false)).isFalse();
    }

    @Test
    void theSoonerDelayWinsAndNullMeansNoNeedToComeBack() {
        var one = java.time.Duration.ofSeconds(1);
        var two = java.time.Duration.ofSeconds(2);
        assertThat(Durations.sooner(one, two)).isEqualTo(one);
        assertThat(Durations.sooner(two, one)).isEqualTo(one);
        assertThat(Durations.sooner(null, two)).isEqualTo(two);
        assertThat(Durations.sooner(two, null)).isEqualTo(two);
        assertThat(Durations.sooner(null, null)).isNull();
    }

    @Test
    void telemetryAloneWaitsForTheStatusIntervalAnythingElseIsWrittenAtOnce() {
        TrainingJobStatus before = new TrainingJobStatus();
        before.phase = JobPhase.Running;
        before.progress = new dev.goodput.api.status.Progress();
        before.progress.step = 100;
        TrainingJobStatus after = new com.fasterxml.jackson.databind.ObjectMapper().convertValue(before, TrainingJobStatus.class);
        assertThat(StatusWriter.change(before, after, true)).isEqualTo(StatusWriter.Change.NONE);
        after.progress.step = 200;
        after.cost = 0.5;
        after.gpuSeconds = 30.0;
        assertThat(StatusWriter.change(before, after, true)).isEqualTo(StatusWriter.Change.TELEMETRY);
        // The running attempt's record follows the steps too: telemetry as well (before: a write on every poll).
        before.attemptHistory = new java.util.ArrayList<>(java.util.List.of(new dev.goodput.api.status.AttemptRecord()));
        before.attemptHistory.get(0).endStep = 100L;
        after.attemptHistory = new java.util.ArrayList<>(java.util.List.of(new dev.goodput.api.status.AttemptRecord()));
        after.attemptHistory.get(0).endStep = 200L;
        after.attemptHistory.get(0).checkpointSeconds = 1.5;
        assertThat(StatusWriter.change(before, after, true)).as("steps in the record").isEqualTo(StatusWriter.Change.TELEMETRY);
        after.attemptHistory.get(0).checkpointStep = 200L;
        assertThat(StatusWriter.change(before, after, true)).as("a checkpoint in the record").isEqualTo(StatusWriter.Change.MEANINGFUL);
        after.attemptHistory.get(0).checkpointStep = null;
        after.lastCheckpoint = new dev.goodput.api.status.CheckpointRef();
        assertThat(StatusWriter.change(before, after, true)).as("a checkpoint").isEqualTo(StatusWriter.Change.MEANINGFUL);
        after.lastCheckpoint = null;
        after.phase = JobPhase.Checkpointing;
        assertThat(StatusWriter.change(before, after, true)).as("a phase").isEqualTo(StatusWriter.Change.MEANINGFUL);

        Instant t = Instant.parse("2026-01-01T00:00:00Z");
        var minute = java.time.Duration.ofSeconds(60);
        assertThat(StatusWriter.untilDue(null, t, minute)).as("never written").isZero();
        assertThat(StatusWriter.untilDue(t, t.plusSeconds(5), minute)).isEqualTo(java.time.Duration.ofSeconds(55));
        assertThat(StatusWriter.untilDue(t, t.plusSeconds(60), minute)).isZero();
        assertThat(StatusWriter.untilDue(t, t.plusSeconds(90), minute)).isZero();
    }
}
