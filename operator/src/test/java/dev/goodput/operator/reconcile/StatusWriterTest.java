package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

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
        AttemptRecords.end(r, CostLedger.PREEMPTED, "EvictionByEvictionAPI", Instant.parse("2026-01-01T00:01:00Z"));
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
}
