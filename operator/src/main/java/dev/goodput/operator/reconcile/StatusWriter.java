package dev.goodput.operator.reconcile;

import dev.goodput.api.status.AttemptOutcome;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.metrics.OperatorMetrics;
import dev.goodput.operator.status.StatusAggregator;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;

/**
 * Record, the end of every reconcile: recomputes cost and goodput from the attempt history ({@link CostLedger}),
 * hands the job's status to its series on /q/metrics ({@link OperatorMetrics}, which computes cost and goodput again
 * whenever it is scraped, so the metrics move with the clock between reconciles), and writes status by server-side
 * apply if it changed.
 *
 * <p>Status is for people, metrics for machines: a status that differs from the written one only in its telemetry
 * ({@link #TELEMETRY}: progress, cost, GPU-seconds, accounting) is written at most once per
 * {@link OperatorSettings#statusInterval} per job (60 s by default); any other difference (phase, a condition, an
 * attempt, a checkpoint, the tuned batch) is written at once, with the latest telemetry. A job whose pod holds a node
 * (so its cost and steps move) comes back every statusInterval for that write; for one that waits (pending,
 * suspended, backing off) only the wall-clock split moves, which alone is not worth a status write: it is written with
 * the next real change.
 */
public class StatusWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OperatorMetrics metrics;
    /** Status fields that move with every /progress poll or with the clock. */
    static final java.util.Set<String> TELEMETRY = java.util.Set.of("progress", "cost", "gpuSeconds", "accounting");
    /**
     * Fields of an attempt record that move with the steps too (the last step done, the time blocked by saves); a new
     * checkpoint, an outcome or a pod time is a meaningful change of the record.
     */
    static final java.util.Set<String> RECORD_TELEMETRY = java.util.Set.of("endStep", "checkpointSeconds");

    /** What a reconcile changed in status. */
    enum Change { NONE, TELEMETRY, MEANINGFUL }

    private final Duration statusInterval;
    private final Clock clock;
    /** When this process last wrote each job's status. */
    private final java.util.Map<ResourceID, Instant> lastWrite = new java.util.concurrent.ConcurrentHashMap<>();

    public StatusWriter(OperatorMetrics metrics, Duration statusInterval, Clock clock) {
        this.metrics = metrics;
        this.statusInterval = statusInterval;
        this.clock = clock;
    }

    /** Writes {@code after} (if it differs from {@code before}); comes back after {@code wait}, or sooner when billing. */
    public UpdateControl<TrainingJob> write(TrainingJob job, TrainingJobStatus before, TrainingJobStatus after,
            Duration wait, Context<TrainingJob> context) {
        String created = job.getMetadata().getCreationTimestamp();
        Instant submitted = created == null ? null : CostLedger.time(created);
        CostLedger.compute(after, submitted, Instant.now(clock)).applyTo(after);
        metrics.update(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getSpec(), after, submitted);
        boolean billing = billing(after);
        if (billing) {
            wait = Durations.sooner(wait, statusInterval);
        }
        Instant now = Instant.now(clock);
        ResourceID id = ResourceID.fromResource(job);
        Change change = change(before, after, billing);
        Duration untilDue = untilDue(lastWrite.get(id), now, statusInterval);
        if (change == Change.MEANINGFUL || change == Change.TELEMETRY && untilDue.isZero()) {
            patchStatus(job, after, context);
            lastWrite.put(id, now);
        } else if (change == Change.TELEMETRY) {
            wait = Durations.sooner(wait, untilDue); // written then, if nothing meaningful comes first
        }
        UpdateControl<TrainingJob> control = UpdateControl.noUpdate();
        return wait == null ? control : control.rescheduleAfter(wait);
    }

    /** The job is deleted: its series leave /q/metrics. */
    public void forget(TrainingJob job) {
        metrics.remove(job.getMetadata().getNamespace(), job.getMetadata().getName());
        lastWrite.remove(ResourceID.fromResource(job));
    }

    /**
     * Writes status by server-side apply, as JOSDK's {@code UpdateControl.patchStatus} does, with the reconciled
     * version's resourceVersion: a reconcile that worked on a stale job fails with 409 and JOSDK runs it again on the
     * fresh one, so nothing is counted twice. Unlike JOSDK (which does not cache its own SSA status patches), the
     * result goes into the controller's cache, so that the next reconcile (often already queued by the pod this one
     * created) starts from this status instead of the stale one and does not conflict; at scale those conflicts
     * meant every job reconciled again in full (docs: bench/results/operator-scale-*.md).
     */
    private static void patchStatus(TrainingJob job, TrainingJobStatus status, Context<TrainingJob> context) {
        TrainingJob desired = new TrainingJob();
        desired.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName())
                .withNamespace(job.getMetadata().getNamespace()).withResourceVersion(job.getMetadata().getResourceVersion())
                .build());
        desired.setSpec(job.getSpec());
        desired.setStatus(status);
        TrainingJob updated = context.getClient().resource(desired).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withForce(true)
                .withFieldManager(context.getControllerConfiguration().fieldManager()).build());
        context.eventSourceRetriever().getControllerEventSource()
                .handleRecentResourceUpdate(ResourceID.fromResource(job), updated, job);
    }

    /** Equal statuses; without {@code billing}, differences in status.accounting alone (wall time passing) do not count. */
    static boolean sameStatus(TrainingJobStatus before, TrainingJobStatus after, boolean billing) {
        return change(before, after, billing) == Change.NONE;
    }

    /**
     * NONE when equal (without {@code billing}, status.accounting alone, wall time passing, does not count), TELEMETRY
     * when only {@link #TELEMETRY} fields and the attempt records' {@link #RECORD_TELEMETRY} differ, else MEANINGFUL.
     */
    static Change change(TrainingJobStatus before, TrainingJobStatus after, boolean billing) {
        ObjectNode a = JSON.valueToTree(before);
        ObjectNode b = JSON.valueToTree(after);
        if (!billing) {
            a.remove("accounting");
            b.remove("accounting");
        }
        if (a.equals(b)) {
            return Change.NONE;
        }
        a.remove(TELEMETRY);
        b.remove(TELEMETRY);
        for (ObjectNode status : java.util.List.of(a, b)) {
            if (status.get("attemptHistory") instanceof com.fasterxml.jackson.databind.node.ArrayNode records) {
                records.forEach(r -> ((ObjectNode) r).remove(RECORD_TELEMETRY));
            }
        }
        return a.equals(b) ? Change.TELEMETRY : Change.MEANINGFUL;
    }

    /** Zero when a telemetry-only write may go now, else how long until it may. */
    static Duration untilDue(Instant last, Instant now, Duration interval) {
        if (last == null) {
            return Duration.ZERO;
        }
        Duration left = Duration.between(now, last.plus(interval));
        return left.isNegative() ? Duration.ZERO : left;
    }

    /** Whether the latest attempt's pod holds a node now: bound and not yet ended, so its cost grows. */
    static boolean billing(TrainingJobStatus s) {
        if (s.attemptHistory == null || s.attemptHistory.isEmpty() || StatusAggregator.finished(s)) {
            return false;
        }
        AttemptRecord last = s.attemptHistory.stream().max(Comparator.comparingInt(r -> r.attempt)).orElseThrow();
        return last.outcome == AttemptOutcome.Running && last.scheduled != null && last.ended == null;
    }
}
