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
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A scripted history, checked against figures computed by hand (docs/cost.md has the model).
 *
 * <p>The job runs on 4 spot H100s at the chart's default spot price, $2.50 per GPU-hour: the pod costs $10.00/hour,
 * i.e. $1 per 360 s. Submitted at 10:00:00 (all times 2025-01-01, UTC).
 *
 * <pre>
 * attempt 1 — PREEMPTED with lost work
 *   created 10:00:05  scheduled 10:02:05  started 10:03:05  ended 11:03:05
 *   steps 0 → 1200, last checkpoint at step 1000 (the next attempt resumes there: 200 steps lost)
 *   trainer reports: start-up 40 s, tuning 90 s, checkpointing 50 s
 *   waiting   10:00:00 → 10:00:05 (5 s) + pending 10:00:05 → 10:02:05 (120 s) = 125 s scheduling
 *   billed    10:02:05 → 11:03:05 = 3660 s → 3660 × 4 = 14640 GPU-s, 3660/360 = $10.166667
 *   start-up  binding → container start 60 s + reported 40 s = 100 s
 *   tuning 90 s, checkpointing 50 s
 *   training  3660 − 100 − 90 − 50 = 3420 s over 1200 steps (2.85 s/step)
 *   goodput   1000 kept steps × 2.85 = 2850 s;  preemption: 200 lost steps × 2.85 = 570 s
 *
 * attempt 2 — FAILED (the trainer crashed)
 *   created 11:03:10  scheduled 11:05:10  started 11:05:40  ended 11:25:40
 *   steps 1000 → 1500, last checkpoint at 1400 (kept by whatever resumes: attempt 3, or the final checkpoint)
 *   trainer reports: start-up 30 s, tuning 60 s, checkpointing 20 s
 *   waiting   11:03:05 → 11:03:10 (5 s, after a preemption: scheduling) + 11:03:10 → 11:05:10 (120 s) = 125 s scheduling
 *   billed    11:05:10 → 11:25:40 = 1230 s → 4920 GPU-s, 1230/360 = $3.416667
 *   training  1230 − (30 + 30) − 60 − 20 = 1090 s over 500 steps (2.18 s/step)
 *   goodput   400 kept steps × 2.18 = 872 s;  failed: everything else billed = 1230 − 872 = 358 s
 *
 * (two attempts, the job then fails: backoffLimit reached; finished, so wall time ends at 11:25:40)
 *   wall       10:00:00 → 11:25:40 = 5140 s
 *   scheduling 125 + 125 = 250; start-up 100; tuning 90; checkpointing 50; preemption 570; failed 358
 *   goodput    2850 + 872 = 3722;   3722 + 250 + 100 + 90 + 50 + 570 + 358 = 5140 ✓
 *   billed     3660 + 1230 = 4890 s; GPU-seconds 4 × 4890 = 19560; cost 4890/360 = $13.583333 → $13.58
 *   badput $   start-up 100/360 = 0.277778, tuning 0.25, checkpointing 50/360 = 0.138889,
 *              preemption 570/360 = 1.583333, failed 358/360 = 0.994444, scheduling 0 (not billed)
 *   goodput $  3722/360 = 10.338889;  sum of all = 13.583333 ✓
 *   no target reached: no time-to-target, no cost-to-target
 *
 * attempt 3 — SUCCEEDED, target reached (second test)
 *   created 11:26:10  scheduled 11:27:10  started 11:27:30  ended 12:00:00
 *   steps 1400 → 2000, last checkpoint at 2000; trainer reports start-up 25 s, tuning 0 s, checkpointing 45 s
 *   waiting   11:25:40 → 11:26:10 (30 s back-off after the failure: failed) + 11:26:10 → 11:27:10 (60 s scheduling)
 *   billed    11:27:10 → 12:00:00 = 1970 s → 7880 GPU-s, $5.472222
 *   start-up  20 + 25 = 45 s; checkpointing 45 s; training 1970 − 45 − 45 = 1880 s, all 600 steps kept → goodput 1880 s
 *   wall       10:00:00 → 12:00:00 = 7200 s
 *   scheduling 250 + 60 = 310; start-up 145; tuning 90; checkpointing 95; preemption 570; failed 358 + 30 = 388
 *   goodput    3722 + 1880 = 5602;   5602 + 310 + 145 + 90 + 95 + 570 + 388 = 7200 ✓
 *   billed     6860 s; GPU-seconds 27440; cost 6860/360 = $19.055556 → $19.06
 *   time-to-target 7200 s (2 h); cost-to-target $19.06
 * </pre>
 */
public class CostLedgerTest {
    static final double PRICE = PriceTable.parse("gpu:\n  nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}\n", "test")
            .quote(resources(4, "nvidia-h100-80gb", true), null).pricePerHour();
    static final Instant SUBMITTED = Instant.parse("2025-01-01T10:00:00Z");
    static final Instant LATER = Instant.parse("2025-01-01T15:00:00Z");
    static final double CENT = 0.005;
    static final double SECOND = 0.5;

    static AttemptRecord attempt(int n, AttemptOutcome outcome, String created, String scheduled, String started, String ended,
            long startStep, long endStep, long checkpointStep, double startup, double tuning, double checkpointing) {
        AttemptRecord r = new AttemptRecord();
        r.attempt = n;
        r.outcome = outcome;
        r.created = "2025-01-01T" + created + "Z";
        r.scheduled = "2025-01-01T" + scheduled + "Z";
        r.started = "2025-01-01T" + started + "Z";
        r.ended = ended == null ? null : "2025-01-01T" + ended + "Z";
        r.gpus = 4;
        r.capacity = "spot";
        r.pricePerHour = PRICE;
        r.startStep = startStep;
        r.endStep = endStep;
        r.checkpointStep = checkpointStep;
        r.startupSeconds = startup;
        r.tuningSeconds = tuning;
        r.checkpointSeconds = checkpointing;
        return r;
    }

    static List<AttemptRecord> preemptedThenFailed() {
        List<AttemptRecord> h = new ArrayList<>();
        h.add(attempt(1, AttemptOutcome.Preempted, "10:00:05", "10:02:05", "10:03:05", "11:03:05", 0, 1200, 1000, 40, 90, 50));
        h.add(attempt(2, AttemptOutcome.Failed, "11:03:10", "11:05:10", "11:05:40", "11:25:40", 1000, 1500, 1400, 30, 60, 20));
        return h;
    }

    public static List<AttemptRecord> thenSucceeded() {
        List<AttemptRecord> h = preemptedThenFailed();
        AttemptRecord a3 = attempt(3, AttemptOutcome.Succeeded, "11:26:10", "11:27:10", "11:27:30", "12:00:00", 1400, 2000, 2000,
                25, 0, 45);
        a3.targetReached = true;
        h.add(a3);
        return h;
    }

    @Test
    void thePriceIsTheSpotH100PriceTimesFourGpus() {
        assertThat(PRICE).isEqualTo(10.0);
    }

    @Test
    void twoAttemptsOnePreemptionWithLostWorkOneFailure() {
        CostLedger.Result r = CostLedger.compute(preemptedThenFailed(), SUBMITTED, true, LATER);

        assertThat(r.cost()).isCloseTo(13.58, within(CENT));
        assertThat(r.gpuSeconds()).isCloseTo(19560, within(SECOND));
        assertThat(r.timeToTargetSeconds()).isNull();
        assertThat(r.costToTarget()).isNull();

        var a = r.accounting();
        assertThat(a.wallSeconds).isCloseTo(5140, within(SECOND));
        assertThat(a.billedSeconds).isCloseTo(4890, within(SECOND));
        assertThat(a.goodputSeconds).isCloseTo(3722, within(SECOND));
        assertThat(a.badputSeconds.scheduling).isCloseTo(250, within(SECOND));
        assertThat(a.badputSeconds.startup).isCloseTo(100, within(SECOND));
        assertThat(a.badputSeconds.tuning).isCloseTo(90, within(SECOND));
        assertThat(a.badputSeconds.checkpointing).isCloseTo(50, within(SECOND));
        assertThat(a.badputSeconds.preemption).isCloseTo(570, within(SECOND));
        assertThat(a.badputSeconds.failed).isCloseTo(358, within(SECOND));
        assertThat(a.goodputSeconds + a.badputSeconds.total()).isCloseTo(a.wallSeconds, within(1e-6));

        assertThat(a.goodputCost).isCloseTo(10.34, within(CENT));
        assertThat(a.badputCost.scheduling).isZero();
        assertThat(a.badputCost.startup).isCloseTo(0.28, within(CENT));
        assertThat(a.badputCost.tuning).isCloseTo(0.25, within(CENT));
        assertThat(a.badputCost.checkpointing).isCloseTo(0.14, within(CENT));
        assertThat(a.badputCost.preemption).isCloseTo(1.58, within(CENT));
        assertThat(a.badputCost.failed).isCloseTo(0.99, within(CENT));
        assertThat(a.goodputCost + a.badputCost.total()).isCloseTo(r.cost(), within(1e-5));

        assertThat(r.attempts()).extracting(CostLedger.AttemptCost::cost)
                .satisfiesExactly(c -> assertThat(c).isCloseTo(10.17, within(CENT)),
                        c -> assertThat(c).isCloseTo(3.42, within(CENT)));
        assertThat(r.attempts()).extracting(CostLedger.AttemptCost::goodputSeconds).containsExactly(2850.0, 872.0);
    }

    @Test
    void aThirdAttemptReachesTheTarget() {
        CostLedger.Result r = CostLedger.compute(thenSucceeded(), SUBMITTED, true, LATER);

        assertThat(r.cost()).isCloseTo(19.06, within(CENT));
        assertThat(r.gpuSeconds()).isCloseTo(27440, within(SECOND));
        assertThat(r.timeToTargetSeconds()).isCloseTo(7200, within(SECOND));
        assertThat(r.costToTarget()).isCloseTo(19.06, within(CENT));

        var a = r.accounting();
        assertThat(a.wallSeconds).isCloseTo(7200, within(SECOND));
        assertThat(a.goodputSeconds).isCloseTo(5602, within(SECOND));
        assertThat(a.badputSeconds.asMap()).containsExactly(
                java.util.Map.entry(Badput.SCHEDULING, 310.0), java.util.Map.entry(Badput.STARTUP, 145.0),
                java.util.Map.entry(Badput.TUNING, 90.0), java.util.Map.entry(Badput.CHECKPOINTING, 95.0),
                java.util.Map.entry(Badput.PREEMPTION, 570.0), java.util.Map.entry(Badput.FAILED, 388.0));
        assertThat(a.goodputSeconds + a.badputSeconds.total()).isCloseTo(7200, within(1e-6));
        assertThat(r.goodputRatio()).isCloseTo(5602 / 7200.0, within(1e-9));
    }

    @Test
    void theResultSurvivesARoundTripThroughStatusJson() throws Exception {
        // State lives in status: serialise the history as the apiserver would store it, read it back, recompute.
        TrainingJobStatus s = new TrainingJobStatus();
        s.attemptHistory = thenSucceeded();
        s.completionTime = "2025-01-01T12:00:05Z";
        ObjectMapper json = new ObjectMapper();
        TrainingJobStatus back = json.readValue(json.writeValueAsString(s), TrainingJobStatus.class);
        CostLedger.Result r = CostLedger.compute(back, SUBMITTED, LATER);
        r.applyTo(back);
        assertThat(back.cost).isCloseTo(19.06, within(CENT));
        assertThat(back.gpuSeconds).isCloseTo(27440, within(SECOND));
        assertThat(back.timeToTargetSeconds).isCloseTo(7200, within(SECOND));
        assertThat(back.costToTarget).isCloseTo(19.06, within(CENT));
        assertThat(back.accounting.goodputSeconds).isCloseTo(5602, within(SECOND));
        // And the written accounting survives a round trip too.
        TrainingJobStatus again = json.readValue(json.writeValueAsString(back), TrainingJobStatus.class);
        assertThat(again.accounting.badputSeconds.failed).isEqualTo(388.0);
    }

    @Test
    void whileRunningTheFiguresGrowWithTime() {
        // Attempt 3 still running at 11:40:00: billed 11:27:10 → 11:40:00 = 770 s so far.
        List<AttemptRecord> h = thenSucceeded();
        AttemptRecord a3 = h.get(2);
        a3.outcome = AttemptOutcome.Running;
        a3.ended = null;
        a3.targetReached = null;
        a3.endStep = 1600L;
        a3.checkpointStep = 1400L;
        a3.checkpointSeconds = 0.0;
        CostLedger.Result r = CostLedger.compute(h, SUBMITTED, false, Instant.parse("2025-01-01T11:40:00Z"));
        assertThat(r.cost()).isCloseTo((3660 + 1230 + 770) / 360.0, within(1e-6));
        assertThat(r.timeToTargetSeconds()).isNull();
        // Start-up 20 + 25 s; the rest of the 770 s trains steps that are, for now, all kept.
        assertThat(r.attempts().get(2).goodputSeconds()).isCloseTo(770 - 45, within(1e-6));
        assertThat(r.accounting().wallSeconds).isCloseTo(6000, within(1e-6));
    }

    @Test
    void waitingForTheNextAttemptCountsAsBackOffAfterAFailure() {
        // After attempt 2 failed, the job waits for its back-off; at 11:26:40 no new pod exists yet.
        CostLedger.Result r = CostLedger.compute(preemptedThenFailed(), SUBMITTED, false,
                Instant.parse("2025-01-01T11:26:40Z"));
        assertThat(r.accounting().badputSeconds.failed).isCloseTo(358 + 60, within(1e-6));
        assertThat(r.accounting().wallSeconds).isCloseTo(5200, within(1e-6));
        assertThat(r.cost()).isCloseTo(4890 / 360.0, within(1e-6));
    }

    @Test
    void aPodDeletedBeforeItWasBoundCostsNothing() {
        AttemptRecord r = attempt(1, AttemptOutcome.Preempted, "10:00:00", "10:00:00", "10:00:00", "10:05:00", 0, 0, 0, 0, 0, 0);
        r.scheduled = null;
        r.started = null;
        CostLedger.Result res = CostLedger.compute(List.of(r), SUBMITTED, false, Instant.parse("2025-01-01T10:05:00Z"));
        assertThat(res.cost()).isZero();
        assertThat(res.gpuSeconds()).isZero();
        assertThat(res.accounting().badputSeconds.scheduling).isEqualTo(300.0);
    }

    @Test
    void anUnpricedAttemptCountsTimeButNoMoney() {
        List<AttemptRecord> h = preemptedThenFailed();
        h.forEach(a -> a.pricePerHour = null);
        CostLedger.Result r = CostLedger.compute(h, SUBMITTED, true, LATER);
        assertThat(r.cost()).isZero();
        assertThat(r.gpuSeconds()).isCloseTo(19560, within(SECOND));
    }

    @Test
    void noHistoryIsAllSchedulingWait() {
        CostLedger.Result r = CostLedger.compute(List.of(), SUBMITTED, false, SUBMITTED.plusSeconds(42));
        assertThat(r.cost()).isZero();
        assertThat(r.accounting().wallSeconds).isEqualTo(42.0);
        assertThat(r.accounting().badputSeconds.scheduling).isEqualTo(42.0);
    }

    static dev.goodput.api.spec.ResourcesSpec resources(int gpus, String type, boolean spot) {
        var r = new dev.goodput.api.spec.ResourcesSpec();
        r.gpus = gpus;
        r.gpuType = type;
        r.spot = spot;
        return r;
    }
}
