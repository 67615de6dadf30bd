package dev.goodput.operator.attempt;

import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.cost.AttemptFolding;
import dev.goodput.operator.cost.AttemptRecords;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.cost.PriceQuote;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.reconcile.JobResources;
import io.fabric8.kubernetes.api.model.Pod;
import java.time.Clock;
import java.time.Instant;

/**
 * Attempt bookkeeping in {@code status.attemptHistory} (docs/cost.md), through {@link AttemptRecords}: a record is
 * opened with the price of the moment ({@link PriceTable}, one pod's price times the attempt's workers) when the
 * attempt's pods are created, filled from the pod and
 * the trainer's reports on every observation, and closed with the outcome {@link AttemptStateMachine} decided. Past
 * {@link AttemptFolding#KEPT} records, a new attempt folds the oldest into {@code status.foldedAttempts}.
 */
public class AttemptHistory {
    private final PriceTable prices;
    private final Clock clock;

    public AttemptHistory(PriceTable prices, Clock clock) {
        this.prices = prices;
        this.clock = clock;
    }

    /** Opens the record of the attempt whose pod (of rank 0) was just applied; returns the price it is fixed at. */
    public PriceQuote begin(TrainingJobStatus status, TrainingJob job, int attempt, Pod pod) {
        // The price is fixed now, for the whole attempt (docs/cost.md); an unpriced job runs all the same.
        PriceQuote quote = quote(job);
        AttemptRecord r = AttemptRecords.begin(status, attempt, createdOrNow(pod), quote, gpus(job));
        r.generation = job.getMetadata().getGeneration();
        r.workers = workers(job);
        String created = job.getMetadata().getCreationTimestamp();
        AttemptFolding.fold(status, created == null ? null : CostLedger.time(created), Instant.now(clock));
        return quote;
    }

    /**
     * Keeps the current attempt's record: opens it if missing (a job from before the history existed, or a lost status
     * write), then copies the pod's times and the trainer's latest report.
     */
    public void observe(TrainingJobStatus status, TrainingJob job, Gang gang) {
        AttemptObservation o = gang.lead();
        AttemptRecord r = AttemptRecords.find(status, o.attempt());
        if (r == null) {
            r = AttemptRecords.begin(status, o.attempt(), createdOrNow(o.pod()), quote(job), gpus(job));
            r.workers = workers(job);
        }
        if (r.ended == null) {
            r.ended = gang.lastEnd(); // a gang is billed until its last pod has stopped, not the one that broke it
        }
        AttemptRecords.observePod(r, o.pod());
        AttemptRecords.report(r, o.live());
        AttemptRecords.report(r, o.report());
    }

    /** Closes the record of an ended attempt; its end is the pod's own finish time when known, else now. */
    public void close(TrainingJobStatus status, int attempt, AttemptStateMachine.Close close) {
        AttemptRecord r = AttemptRecords.find(status, attempt);
        if (r != null) {
            AttemptRecords.end(r, close.outcome(), close.reason(), Instant.now(clock));
        }
    }

    private Instant createdOrNow(Pod pod) {
        String t = pod == null ? null : pod.getMetadata().getCreationTimestamp();
        return t == null ? Instant.now(clock) : CostLedger.time(t);
    }

    /** One pod's price times the attempt's pods: every worker is billed. */
    private PriceQuote quote(TrainingJob job) {
        return prices.quote(job.getSpec()).times(JobResources.workers(job.getSpec()));
    }

    /** The GPUs of all the attempt's pods. */
    private static int gpus(TrainingJob job) {
        var r = job.getSpec().resources;
        return (r == null || r.gpus == null ? 0 : r.gpus) * JobResources.workers(job.getSpec());
    }

    /** spec.resources.workers, recorded only for a gang (absent for one pod, as before). */
    private static Integer workers(TrainingJob job) {
        int w = JobResources.workers(job.getSpec());
        return w > 1 ? w : null;
    }
}
