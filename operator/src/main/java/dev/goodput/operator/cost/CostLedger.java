package dev.goodput.operator.cost;

import dev.goodput.api.cost.CostToTarget;
import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.Accounting;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.Badput;
import dev.goodput.api.status.FoldedAttempts;
import dev.goodput.api.status.TrainingJobStatus;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Cost and goodput of a job, computed from its attempt history alone (status.attemptHistory), so the figures are the
 * same after any operator restart. A pure function: {@link #compute} takes the history, the submission time, whether
 * the job has finished, and "now" (for the attempt still running and for time still passing), and returns totals;
 * it keeps no state. The model is documented in docs/cost.md; in brief:
 *
 * <ul>
 *   <li>An attempt is billed from the pod's binding to a node ({@code scheduled}) to its end, at the hourly price fixed
 *       when it began: the node (and its GPUs) is held for the pod from binding on, image pull included. GPU-seconds =
 *       billed seconds × GPUs.</li>
 *   <li>Wall time from submission to the end (or now) is split into goodput and badput causes: {@code scheduling}
 *       (no pod bound: before the first pod, pod pending, the gap after a preemption), {@code startup} (binding to
 *       container start, plus the trainer's reported start-up), {@code tuning}, {@code checkpointing} (trainer-reported),
 *       {@code preemption} (training time on steps after the checkpoint the next attempt resumed from), {@code failed}
 *       (all of a failed attempt except the steps later attempts kept, and the back-off after it).</li>
 *   <li>An attempt's training time (billed time less start-up, tuning and checkpointing) is shared between its steps
 *       evenly; the steps the final model keeps are goodput.</li>
 *   <li>Time-to-target = submission → end of the attempt that reached the target; cost-to-target = cost of all
 *       attempts up to and including it, by {@link CostToTarget}, the rule the trainer's run report shares.</li>
 * </ul>
 */
public final class CostLedger {
    private CostLedger() {}

    /**
     * One attempt's share of the totals; its badput seconds include the wait before its pod was bound (after the
     * previous attempt, or from submission).
     */
    public record AttemptCost(int attempt, double billedSeconds, double gpuSeconds, double cost, double goodputSeconds,
            double goodputCost, Badput badputSeconds, Badput badputCost) {}

    /**
     * The result, ready for status ({@link #applyTo}) and metrics.
     *
     * @param gpuSeconds          GPU-seconds of all attempts
     * @param cost                dollars, all attempts
     * @param timeToTargetSeconds wall seconds from submission to the end of the attempt that reached the target; null
     *                            until then
     * @param costToTarget        dollars spent up to then; null until then
     * @param accounting          wall time, billed time, goodput and badput by cause (seconds and dollars)
     * @param attempts            per attempt, in attempt order
     */
    public record Result(double gpuSeconds, double cost, Double timeToTargetSeconds, Double costToTarget,
            Accounting accounting, List<AttemptCost> attempts) {

        /** Writes gpuSeconds, cost, timeToTargetSeconds, costToTarget and accounting into the status. */
        public void applyTo(TrainingJobStatus status) {
            status.gpuSeconds = gpuSeconds;
            status.cost = cost;
            status.timeToTargetSeconds = timeToTargetSeconds;
            status.costToTarget = costToTarget;
            status.accounting = accounting;
        }

        public double goodputRatio() {
            return accounting.wallSeconds <= 0 ? 0 : accounting.goodputSeconds / accounting.wallSeconds;
        }
    }

    /**
     * A new status with only what {@link #compute(TrainingJobStatus, Instant, Instant)} and the metrics read (phase,
     * counts, completion, the attempt history as a copied list): safe to price later on another thread while the
     * original is written or changed.
     */
    public static TrainingJobStatus inputsOf(TrainingJobStatus status) {
        TrainingJobStatus s = new TrainingJobStatus();
        if (status == null) {
            return s;
        }
        s.phase = status.phase;
        s.preemptions = status.preemptions;
        s.failures = status.failures;
        s.completionTime = status.completionTime;
        s.attemptHistory = status.attemptHistory == null ? null : List.copyOf(status.attemptHistory);
        s.foldedAttempts = status.foldedAttempts;
        return s;
    }

    /** Computes from a status: its attemptHistory, with {@code submitted} = the job's creationTimestamp. */
    public static Result compute(TrainingJobStatus status, Instant submitted, Instant now) {
        boolean finished = status.completionTime != null;
        return compute(status.attemptHistory == null ? List.of() : status.attemptHistory, status.foldedAttempts,
                submitted, finished, now);
    }

    /** As {@link #compute(List, FoldedAttempts, Instant, boolean, Instant)} with no folded attempts. */
    public static Result compute(List<AttemptRecord> history, Instant submitted, boolean finished, Instant now) {
        return compute(history, null, submitted, finished, now);
    }

    /**
     * @param history   the attempts, any order (sorted by attempt number here)
     * @param folded    the attempts before {@code history}, summed ({@link AttemptFolding}); null for none
     * @param submitted when the job was created (wall time starts here); null = the first pod's creation
     * @param finished  the job has ended (Succeeded or Failed): wall time stops at the last attempt's end; otherwise it
     *                  runs to {@code now} (a last attempt that Succeeded ends the job either way)
     * @param now       the present, for an attempt still running and a job still waiting
     */
    public static Result compute(List<AttemptRecord> history, FoldedAttempts folded, Instant submitted, boolean finished,
            Instant now) {
        List<AttemptRecord> rs = new ArrayList<>(history == null ? List.of() : history);
        rs.sort(Comparator.comparingInt(r -> r.attempt));
        int n = rs.size();

        // Step ranges: where each attempt started (resume step, else where the previous one checkpointed) and ended.
        long[] start = new long[n];
        long[] end = new long[n];
        for (int i = 0; i < n; i++) {
            AttemptRecord r = rs.get(i);
            long first = folded == null || folded.lastCheckpointStep == null ? 0 : folded.lastCheckpointStep;
            long previous = i == 0 ? first : (rs.get(i - 1).checkpointStep != null ? rs.get(i - 1).checkpointStep : start[i - 1]);
            start[i] = r.startStep != null ? r.startStep : previous;
            end[i] = Math.max(start[i], r.endStep != null ? r.endStep : start[i]);
        }
        // Steps the final model keeps: walking back, an attempt keeps its steps up to where the next one resumed.
        long[] keptUpTo = new long[n];
        long limit = Long.MAX_VALUE;
        for (int i = n - 1; i >= 0; i--) {
            AttemptRecord r = rs.get(i);
            if (i == n - 1 && (r.outcome == AttemptOutcome.Preempted || r.outcome == AttemptOutcome.Failed)) {
                // A later attempt (if any comes) resumes from this attempt's last checkpoint.
                limit = r.checkpointStep != null ? r.checkpointStep : start[i];
            }
            keptUpTo[i] = Math.min(end[i], limit);
            limit = Math.min(limit, start[i]);
        }

        Instant wallStart = submitted != null ? submitted
                : n > 0 && rs.get(0).created != null ? time(rs.get(0).created) : now;
        Instant wallEnd = now;
        if ((finished || n > 0 && rs.get(n - 1).outcome == AttemptOutcome.Succeeded) && n > 0 && rs.get(n - 1).ended != null) {
            wallEnd = time(rs.get(n - 1).ended);
        }
        if (wallEnd.isBefore(wallStart)) {
            wallEnd = wallStart;
        }

        Accounting acc = new Accounting();
        List<AttemptCost> attempts = new ArrayList<>();
        double gpuSeconds = 0;
        double cost = 0;
        Double timeToTarget = null;
        // Each attempt as billed, for the shared cost-to-target rule; the folded ones enter as their dollar sum.
        List<CostToTarget.Attempt> billedAttempts = new ArrayList<>();
        double foldedCost = 0;
        Instant previousEnd = wallStart;
        AttemptOutcome previousOutcome = null;
        if (folded != null) {
            // The oldest attempts, summed when their records were dropped: the same figures as if they were here.
            gpuSeconds = folded.gpuSeconds;
            cost = folded.cost;
            foldedCost = folded.cost;
            acc.billedSeconds = folded.billedSeconds;
            acc.goodputSeconds = folded.goodputSeconds;
            acc.goodputCost = folded.goodputCost;
            for (String cause : Badput.CAUSES) {
                acc.badputSeconds.add(cause, folded.badputSeconds == null ? 0 : folded.badputSeconds.get(cause));
                acc.badputCost.add(cause, folded.badputCost == null ? 0 : folded.badputCost.get(cause));
            }
            previousEnd = folded.lastEnded == null ? wallStart : max(wallStart, time(folded.lastEnded));
            previousOutcome = folded.lastOutcome;
        }
        for (int i = 0; i < n; i++) {
            AttemptRecord r = rs.get(i);
            Instant created = r.created != null ? time(r.created) : previousEnd;
            Instant ended = r.ended != null ? time(r.ended) : wallEnd;
            Instant bound = r.scheduled != null ? time(r.scheduled) : null;
            double perSecond = (r.pricePerHour == null ? 0 : r.pricePerHour) / 3600.0;
            Badput waiting = new Badput();
            Badput onNode = new Badput();

            // Before the pod: back-off after a failure, otherwise waiting (the operator, or capacity after a preemption).
            waiting.add(previousOutcome == AttemptOutcome.Failed ? Badput.FAILED : Badput.SCHEDULING, between(previousEnd, created));
            // Pod pending until bound (or until it ended unbound).
            Instant billedFrom = bound == null ? ended : max(bound, created);
            waiting.add(Badput.SCHEDULING, between(created, billedFrom));

            double billed = between(billedFrom, ended);
            Instant containerStart = r.started != null ? time(r.started) : ended;
            double remaining = billed;
            double startup = Math.min(remaining, between(billedFrom, containerStart));
            remaining -= startup;
            double reported = Math.min(remaining, positive(r.startupSeconds));
            startup += reported;
            remaining -= reported;
            double tuning = Math.min(remaining, positive(r.tuningSeconds));
            remaining -= tuning;
            double checkpointing = Math.min(remaining, positive(r.checkpointSeconds));
            remaining -= checkpointing;
            double training = remaining;

            long stepsRun = end[i] - start[i];
            long kept = Math.max(0, Math.min(stepsRun, keptUpTo[i] - start[i]));
            double goodput = stepsRun > 0 ? training * kept / stepsRun : 0;
            double lost = training - goodput;
            if (r.outcome == AttemptOutcome.Failed) {
                onNode.add(Badput.FAILED, billed - goodput);
            } else {
                onNode.add(Badput.STARTUP, startup);
                onNode.add(Badput.TUNING, tuning);
                onNode.add(Badput.CHECKPOINTING, checkpointing);
                // Training time with no steps yet (or none recorded) is still start-up for a live or successful
                // attempt; steps run and not kept are lost to the interruption.
                onNode.add(stepsRun == 0 && r.outcome != AttemptOutcome.Preempted ? Badput.STARTUP : Badput.PREEMPTION, lost);
            }

            int gpus = r.gpus == null ? 0 : r.gpus;
            boolean reachedTarget = Boolean.TRUE.equals(r.targetReached) && r.ended != null;
            CostToTarget.Attempt billedAttempt = new CostToTarget.Attempt(billed, r.pricePerHour, reachedTarget);
            billedAttempts.add(billedAttempt);
            double attemptCost = billedAttempt.cost();
            gpuSeconds += billed * gpus;
            cost += attemptCost;
            acc.billedSeconds += billed;
            acc.goodputSeconds += goodput;
            acc.goodputCost += goodput * perSecond;
            Badput seconds = new Badput();
            Badput dollars = new Badput();
            for (String cause : Badput.CAUSES) {
                seconds.add(cause, waiting.get(cause) + onNode.get(cause));
                dollars.add(cause, onNode.get(cause) * perSecond);
                acc.badputSeconds.add(cause, waiting.get(cause) + onNode.get(cause));
                acc.badputCost.add(cause, onNode.get(cause) * perSecond);
            }
            attempts.add(new AttemptCost(r.attempt, round(billed, 3), round(billed * gpus, 3), round(attemptCost, 6),
                    round(goodput, 3), round(goodput * perSecond, 6), round(seconds, 3), round(dollars, 6)));
            if (reachedTarget && timeToTarget == null) {
                timeToTarget = between(wallStart, ended);
            }
            previousEnd = max(previousEnd, ended);
            previousOutcome = r.outcome;
        }
        Double costToTarget = CostToTarget.dollars(foldedCost, billedAttempts);
        // After the last attempt: a failed one's back-off, or waiting for the next pod.
        acc.badputSeconds.add(previousOutcome == AttemptOutcome.Failed ? Badput.FAILED : Badput.SCHEDULING,
                between(previousEnd, wallEnd));
        acc.wallSeconds = round(between(wallStart, wallEnd), 3);
        acc.billedSeconds = round(acc.billedSeconds, 3);
        acc.goodputSeconds = round(acc.goodputSeconds, 3);
        acc.goodputCost = round(acc.goodputCost, 6);
        round(acc.badputSeconds, 3);
        round(acc.badputCost, 6);
        return new Result(round(gpuSeconds, 3), round(cost, 6), timeToTarget == null ? null : round(timeToTarget, 3),
                costToTarget == null ? null : round(costToTarget, 6), acc, List.copyOf(attempts));
    }

    /** Parses an RFC 3339 instant as Kubernetes writes them ({@code 2025-01-01T10:00:00Z}, offsets allowed). */
    public static Instant time(String rfc3339) {
        return OffsetDateTime.parse(rfc3339).toInstant();
    }

    private static double between(Instant from, Instant to) {
        double s = Duration.between(from, to).toMillis() / 1000.0;
        return Math.max(0, s);
    }

    private static Instant max(Instant a, Instant b) {
        return a.isAfter(b) ? a : b;
    }

    private static double positive(Double v) {
        return v == null || !(v > 0) ? 0 : v;
    }

    private static Badput round(Badput b, int decimals) {
        b.scheduling = round(b.scheduling, decimals);
        b.startup = round(b.startup, decimals);
        b.tuning = round(b.tuning, decimals);
        b.checkpointing = round(b.checkpointing, decimals);
        b.preemption = round(b.preemption, decimals);
        b.failed = round(b.failed, decimals);
        return b;
    }

    private static double round(double v, int decimals) {
        double f = Math.pow(10, decimals);
        return Math.round(v * f) / f;
    }
}
