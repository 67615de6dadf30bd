package dev.goodput.operator.cost;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps {@code status.attemptHistory}, the input of {@link CostLedger}: open a record when a pod is created, fill in
 * the pod's times and the trainer's report as they are observed, close it when the attempt ends. Each method only
 * fills what is still missing (times) or newer (steps), so calling it again on every reconcile is harmless.
 */
public final class AttemptRecords {
    private AttemptRecords() {}

    /** The record of {@code attempt}, or null. */
    public static AttemptRecord find(TrainingJobStatus status, int attempt) {
        if (status.attemptHistory == null) {
            return null;
        }
        return status.attemptHistory.stream().filter(r -> r.attempt == attempt).findFirst().orElse(null);
    }

    /**
     * Opens the record of a new attempt (idempotent: returns the existing one). The price is fixed here, so a later
     * change of the price table does not rewrite what past attempts cost.
     *
     * @param created when the pod was created (its creationTimestamp, or now)
     * @param quote   the job's price now ({@link PriceTable#quote}); an unpriced quote records no price (cost 0)
     * @param gpus    spec.resources.gpus
     */
    public static AttemptRecord begin(TrainingJobStatus status, int attempt, Instant created, PriceQuote quote, int gpus) {
        AttemptRecord r = find(status, attempt);
        if (r != null) {
            return r;
        }
        r = new AttemptRecord();
        r.attempt = attempt;
        r.outcome = AttemptOutcome.Running;
        r.created = format(created);
        r.gpus = gpus;
        r.capacity = quote == null ? null : quote.capacity();
        r.pricePerHour = quote == null ? null : quote.pricePerHour();
        if (status.attemptHistory == null) {
            status.attemptHistory = new ArrayList<>();
        }
        status.attemptHistory.add(r);
        return r;
    }

    /**
     * Copies the pod's times: created (creationTimestamp), scheduled (PodScheduled=True), started (the container's
     * startedAt) and ended (the container's finishedAt). Never overwrites a time already recorded.
     */
    public static void observePod(AttemptRecord r, Pod pod) {
        if (pod == null) {
            return;
        }
        if (r.created == null && pod.getMetadata() != null) {
            r.created = pod.getMetadata().getCreationTimestamp();
        }
        if (pod.getStatus() == null) {
            return;
        }
        if (r.scheduled == null && pod.getStatus().getConditions() != null) {
            for (PodCondition c : pod.getStatus().getConditions()) {
                if ("PodScheduled".equals(c.getType()) && "True".equals(c.getStatus())) {
                    r.scheduled = c.getLastTransitionTime();
                }
            }
        }
        List<ContainerStatus> containers = pod.getStatus().getContainerStatuses();
        if (containers == null || containers.isEmpty()) {
            return;
        }
        ContainerState state = containers.get(0).getState();
        if (state == null) {
            return;
        }
        if (state.getRunning() != null && r.started == null) {
            r.started = state.getRunning().getStartedAt();
        }
        if (state.getTerminated() != null) {
            if (r.started == null) {
                r.started = state.getTerminated().getStartedAt();
            }
            if (r.ended == null) {
                r.ended = state.getTerminated().getFinishedAt();
            }
            if (r.exitCode == null) {
                r.exitCode = state.getTerminated().getExitCode();
            }
        }
        if (r.scheduled == null && r.started != null) {
            // A container ran, so the pod was bound, at the latest when it started.
            r.scheduled = r.started;
        }
    }

    /** Copies steps and the trainer's time breakdown from its /progress or termination report. */
    public static void report(AttemptRecord r, TrainerReport report) {
        if (report == null) {
            return;
        }
        if (report.resumedFromStep != null) {
            r.startStep = report.resumedFromStep;
        }
        if (report.progress != null) {
            r.endStep = Math.max(r.endStep == null ? 0 : r.endStep, report.progress.step);
        }
        if (report.lastCheckpoint != null) {
            r.checkpointStep = Math.max(r.checkpointStep == null ? 0 : r.checkpointStep, report.lastCheckpoint.step);
        }
        if (report.startupSeconds != null) r.startupSeconds = report.startupSeconds;
        if (report.tuningSeconds != null) r.tuningSeconds = report.tuningSeconds;
        if (report.checkpointSeconds != null) r.checkpointSeconds = report.checkpointSeconds;
        if (Boolean.TRUE.equals(report.targetReached)) r.targetReached = true;
    }

    /**
     * Closes an attempt. {@code ended} is used only when the pod's own finish time was not observed (a pod deleted
     * before its container reported one).
     *
     * @param outcome Succeeded, Preempted or Failed
     */
    public static void end(AttemptRecord r, AttemptOutcome outcome, String reason, Instant ended) {
        r.outcome = outcome;
        r.reason = reason;
        if (r.ended == null) {
            r.ended = format(ended);
        }
    }

    private static String format(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.SECONDS).toString();
    }
}
