package dev.goodput.operator.cost;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.Badput;
import dev.goodput.api.status.FoldedAttempts;
import dev.goodput.api.status.TrainingJobStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Keeps {@code status.attemptHistory} bounded: past {@link #KEPT} records, the oldest ended ones are summed into
 * {@code status.foldedAttempts} and dropped. A spot job preempted every few minutes would otherwise grow its status
 * by a record (~600 bytes) per attempt toward etcd's object-size limit (1.5 MiB), and every reconcile would copy and
 * compare all of it.
 *
 * <p>The sums are the {@link CostLedger}'s own per-attempt figures at the time of folding, so the job's totals do not
 * change. One approximation, documented in docs/cost.md: a folded attempt's kept steps are fixed when it is folded; a
 * later attempt that resumed from a checkpoint older than the folded attempts' steps (only after a lost checkpoint) no
 * longer turns them into badput.
 */
public final class AttemptFolding {
    /** Records kept in status.attemptHistory; the attempt running now is always one of them. */
    public static final int KEPT = 20;

    private AttemptFolding() {}

    /**
     * Folds the oldest records beyond {@link #KEPT} (only ended ones, oldest first) into status.foldedAttempts.
     *
     * @param submitted the job's creationTimestamp
     * @param now       the present, as for {@link CostLedger#compute}
     * @return how many records were folded
     */
    public static int fold(TrainingJobStatus status, Instant submitted, Instant now) {
        List<AttemptRecord> history = status.attemptHistory;
        if (history == null || history.size() <= KEPT) {
            return 0;
        }
        List<AttemptRecord> sorted = new ArrayList<>(history);
        sorted.sort(Comparator.comparingInt(r -> r.attempt));
        CostLedger.Result full = CostLedger.compute(sorted, status.foldedAttempts, submitted, false, now);
        FoldedAttempts f = status.foldedAttempts == null ? new FoldedAttempts() : status.foldedAttempts;
        int folded = 0;
        for (int i = 0; i < sorted.size() - KEPT; i++) {
            AttemptRecord r = sorted.get(i);
            if (r.ended == null || r.outcome == AttemptOutcome.Running) {
                break;
            }
            CostLedger.AttemptCost c = full.attempts().get(i);
            f.attempts++;
            f.lastAttempt = r.attempt;
            f.lastOutcome = r.outcome;
            f.lastEnded = r.ended;
            f.lastCheckpointStep = r.checkpointStep != null ? r.checkpointStep
                    : r.startStep != null ? r.startStep : f.lastCheckpointStep;
            f.billedSeconds += c.billedSeconds();
            f.gpuSeconds += c.gpuSeconds();
            f.cost += c.cost();
            f.goodputSeconds += c.goodputSeconds();
            f.goodputCost += c.goodputCost();
            for (String cause : Badput.CAUSES) {
                f.badputSeconds.add(cause, c.badputSeconds().get(cause));
                f.badputCost.add(cause, c.badputCost().get(cause));
            }
            folded++;
        }
        if (folded > 0) {
            List<AttemptRecord> gone = sorted.subList(0, folded);
            history.removeIf(gone::contains);
            status.foldedAttempts = f;
        }
        return folded;
    }
}
