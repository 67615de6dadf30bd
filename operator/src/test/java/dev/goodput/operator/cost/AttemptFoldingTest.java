package dev.goodput.operator.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.goodput.api.status.AttemptOutcome;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.Badput;
import dev.goodput.api.status.TrainingJobStatus;
import java.time.Instant;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** A job preempted 30 times: its status keeps 20 attempt records and the same cost and goodput. */
class AttemptFoldingTest {
    static final Instant SUBMITTED = Instant.parse("2026-01-01T00:00:00Z");
    static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Attempt i (1-based) is created 700 s after the previous one, bound 30 s later, started 10 s after that, and
     * preempted 600 s after creation; it resumes at step 100 (i - 1), runs 120 steps and checkpoints at 100 i, so 20
     * steps of each are lost. The last attempt still runs.
     */
    static TrainingJobStatus preemptedMany(int attempts) {
        TrainingJobStatus s = new TrainingJobStatus();
        s.attemptHistory = new ArrayList<>();
        for (int i = 1; i <= attempts; i++) {
            Instant created = SUBMITTED.plusSeconds(5 + 700L * (i - 1));
            AttemptRecord r = new AttemptRecord();
            r.attempt = i;
            r.created = created.toString();
            r.scheduled = created.plusSeconds(30).toString();
            r.started = created.plusSeconds(40).toString();
            r.gpus = 4;
            r.pricePerHour = 10.0;
            r.startStep = 100L * (i - 1);
            r.startupSeconds = 15.0;
            r.tuningSeconds = i == 1 ? 60.0 : 0.0;
            r.checkpointSeconds = 5.0;
            if (i < attempts) {
                r.outcome = AttemptOutcome.Preempted;
                r.reason = "PreemptionByScheduler";
                r.ended = created.plusSeconds(600).toString();
                r.endStep = 100L * i + 20;
                r.checkpointStep = 100L * i;
            } else {
                r.outcome = AttemptOutcome.Running;
                r.endStep = r.startStep + 50;
                r.checkpointStep = r.startStep;
            }
            s.attemptHistory.add(r);
        }
        return s;
    }

    @Test
    void theOldestRecordsAreSummedAndTheTotalsStayTheSame() throws Exception {
        int attempts = 31;
        TrainingJobStatus s = preemptedMany(attempts);
        Instant now = SUBMITTED.plusSeconds(700L * (attempts - 1) + 300);
        CostLedger.Result before = CostLedger.compute(s, SUBMITTED, now);
        int sizeBefore = JSON.writeValueAsBytes(s).length;

        int folded = AttemptFolding.fold(s, SUBMITTED, now);

        assertThat(folded).isEqualTo(attempts - AttemptFolding.KEPT);
        assertThat(s.attemptHistory).hasSize(AttemptFolding.KEPT);
        assertThat(s.attemptHistory).extracting(r -> r.attempt).startsWith(attempts - AttemptFolding.KEPT + 1)
                .contains(attempts);
        assertThat(s.foldedAttempts.attempts).isEqualTo(folded);
        assertThat(s.foldedAttempts.lastAttempt).isEqualTo(folded);
        assertThat(s.foldedAttempts.lastCheckpointStep).isEqualTo(100L * folded);
        assertThat(JSON.writeValueAsBytes(s).length).as("status shrinks").isLessThan(sizeBefore);

        CostLedger.Result after = CostLedger.compute(s, SUBMITTED, now);
        assertThat(after.cost()).isCloseTo(before.cost(), within(1e-5));
        assertThat(after.gpuSeconds()).isCloseTo(before.gpuSeconds(), within(0.01));
        assertThat(after.accounting().wallSeconds).isEqualTo(before.accounting().wallSeconds);
        assertThat(after.accounting().billedSeconds).isCloseTo(before.accounting().billedSeconds, within(0.01));
        assertThat(after.accounting().goodputSeconds).isCloseTo(before.accounting().goodputSeconds, within(0.01));
        for (String cause : Badput.CAUSES) {
            assertThat(after.accounting().badputSeconds.get(cause)).as(cause)
                    .isCloseTo(before.accounting().badputSeconds.get(cause), within(0.01));
            assertThat(after.accounting().badputCost.get(cause)).as(cause)
                    .isCloseTo(before.accounting().badputCost.get(cause), within(1e-5));
        }
        // What is lost to the preemptions is real: 20 steps of each of the 30 preempted attempts, and tuning once.
        assertThat(after.accounting().badputSeconds.preemption).isGreaterThan(0);
        assertThat(after.accounting().badputSeconds.tuning).isCloseTo(60.0, within(0.01));

        // Folding again changes nothing; the next attempt folds one more, and the totals still hold.
        assertThat(AttemptFolding.fold(s, SUBMITTED, now)).isZero();
        TrainingJobStatus roundTrip = JSON.readValue(JSON.writeValueAsBytes(s), TrainingJobStatus.class);
        assertThat(CostLedger.compute(roundTrip, SUBMITTED, now).cost()).isCloseTo(before.cost(), within(1e-5));
    }

    @Test
    void aShortHistoryIsLeftAlone() {
        TrainingJobStatus s = preemptedMany(AttemptFolding.KEPT);
        assertThat(AttemptFolding.fold(s, SUBMITTED, SUBMITTED.plusSeconds(100_000))).isZero();
        assertThat(s.attemptHistory).hasSize(AttemptFolding.KEPT);
        assertThat(s.foldedAttempts).isNull();
    }

    @Test
    void oneFoldAtATimeAddsUpToOneFoldOfAll() {
        TrainingJobStatus stepwise = preemptedMany(AttemptFolding.KEPT);
        TrainingJobStatus all = preemptedMany(AttemptFolding.KEPT + 8);
        for (int n = AttemptFolding.KEPT + 1; n <= AttemptFolding.KEPT + 8; n++) {
            // As the operator does it: each new attempt's record, then the fold.
            TrainingJobStatus next = preemptedMany(n);
            AttemptRecord previous = next.attemptHistory.get(n - 2);
            int replaced = n - 1;
            stepwise.attemptHistory.removeIf(r -> r.attempt == replaced);
            stepwise.attemptHistory.add(previous);
            stepwise.attemptHistory.add(next.attemptHistory.get(n - 1));
            AttemptFolding.fold(stepwise, SUBMITTED, SUBMITTED.plusSeconds(700L * n));
        }
        Instant now = SUBMITTED.plusSeconds(700L * (AttemptFolding.KEPT + 8));
        AttemptFolding.fold(all, SUBMITTED, now);
        assertThat(stepwise.foldedAttempts.attempts).isEqualTo(all.foldedAttempts.attempts);
        assertThat(CostLedger.compute(stepwise, SUBMITTED, now).cost())
                .isCloseTo(CostLedger.compute(all, SUBMITTED, now).cost(), within(1e-5));
        assertThat(CostLedger.compute(stepwise, SUBMITTED, now).accounting().goodputSeconds)
                .isCloseTo(CostLedger.compute(all, SUBMITTED, now).accounting().goodputSeconds, within(0.05));
    }
}
