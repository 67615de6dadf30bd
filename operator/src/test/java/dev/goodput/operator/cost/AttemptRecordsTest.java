package dev.goodput.operator.cost;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class AttemptRecordsTest {
    static Pod pod(boolean terminated) {
        ContainerState state = terminated
                ? new ContainerStateBuilder().withNewTerminated().withStartedAt("2025-01-01T10:03:05Z")
                        .withFinishedAt("2025-01-01T11:03:05Z").withExitCode(75).endTerminated().build()
                : new ContainerStateBuilder().withNewRunning().withStartedAt("2025-01-01T10:03:05Z").endRunning().build();
        return new PodBuilder().withNewMetadata().withName("j-1").withCreationTimestamp("2025-01-01T10:00:05Z")
                .endMetadata().withNewStatus()
                .addNewCondition().withType("PodScheduled").withStatus("True")
                .withLastTransitionTime("2025-01-01T10:02:05Z").endCondition()
                .addNewContainerStatus().withName("trainer").withState(state).endContainerStatus()
                .endStatus().build();
    }

    @Test
    void aRecordFollowsItsPodAndReport() {
        TrainingJobStatus s = new TrainingJobStatus();
        PriceQuote quote = new PriceQuote(10.0, "spot", "test", null, null);
        AttemptRecord r = AttemptRecords.begin(s, 1, Instant.parse("2025-01-01T10:00:05.700Z"), quote, 4);
        assertThat(AttemptRecords.begin(s, 1, Instant.now(), quote, 4)).isSameAs(r);
        assertThat(s.attemptHistory).hasSize(1);
        assertThat(r.created).isEqualTo("2025-01-01T10:00:05Z");
        assertThat(r.outcome).isEqualTo(AttemptOutcome.Running);
        assertThat(r.pricePerHour).isEqualTo(10.0);

        AttemptRecords.observePod(r, pod(false));
        assertThat(r.scheduled).isEqualTo("2025-01-01T10:02:05Z");
        assertThat(r.started).isEqualTo("2025-01-01T10:03:05Z");
        assertThat(r.ended).isNull();

        TrainerReport report = new TrainerReport();
        report.resumedFromStep = 0L;
        report.progress = new Progress();
        report.progress.step = 1200;
        report.lastCheckpoint = new CheckpointRef();
        report.lastCheckpoint.step = 1000;
        report.startupSeconds = 40.0;
        report.tuningSeconds = 90.0;
        report.checkpointSeconds = 50.0;
        AttemptRecords.report(r, report);
        AttemptRecords.observePod(r, pod(true));
        AttemptRecords.end(r, AttemptOutcome.Preempted, "TrainerPreempted", Instant.parse("2025-01-01T11:03:09Z"));

        assertThat(r.ended).isEqualTo("2025-01-01T11:03:05Z"); // the container's own finish time wins
        assertThat(r.outcome).isEqualTo(AttemptOutcome.Preempted);
        assertThat(r.reason).isEqualTo("TrainerPreempted");
        assertThat(r.startStep).isZero();
        assertThat(r.endStep).isEqualTo(1200L);
        assertThat(r.checkpointStep).isEqualTo(1000L);
        assertThat(AttemptRecords.find(s, 1)).isSameAs(r);
        assertThat(AttemptRecords.find(s, 2)).isNull();

        // The same figures as attempt 1 of CostLedgerTest.
        CostLedger.Result res = CostLedger.compute(s.attemptHistory, Instant.parse("2025-01-01T10:00:00Z"), false,
                Instant.parse("2025-01-01T11:03:05Z"));
        assertThat(res.attempts().get(0).billedSeconds()).isEqualTo(3660.0);
        assertThat(res.attempts().get(0).goodputSeconds()).isEqualTo(2850.0);
        assertThat(res.accounting().badputSeconds.preemption).isEqualTo(570.0);
    }

    @Test
    void aPodDeletedBeforeItsContainerReportedEndsWhenTheOperatorSawIt() {
        TrainingJobStatus s = new TrainingJobStatus();
        AttemptRecord r = AttemptRecords.begin(s, 2, Instant.parse("2025-01-01T10:00:00Z"),
                new PriceQuote(null, "on-demand", null, PriceQuote.UNKNOWN_GPU_TYPE, "no price"), 1);
        assertThat(r.pricePerHour).isNull();
        AttemptRecords.end(r, AttemptOutcome.Failed, "ErrImagePull", Instant.parse("2025-01-01T10:05:00.900Z"));
        assertThat(r.ended).isEqualTo("2025-01-01T10:05:00Z");
        assertThat(r.scheduled).isNull();
    }
}
