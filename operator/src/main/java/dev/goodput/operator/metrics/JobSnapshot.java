package dev.goodput.operator.metrics;

import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.Accounting;
import dev.goodput.api.status.Badput;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.PriceTable;
import java.util.Map;

/**
 * What the operator's metrics show of one job, all taken from its spec and status (so they are the same after an
 * operator restart). Build it with {@link #of}.
 *
 * @param gpuType           spec.resources.gpuType; {@code none} for a CPU-only job, {@code unknown} when a GPU job names none
 * @param capacity          {@code spot} or {@code on-demand}
 * @param phase             status.phase, or null
 * @param badputSeconds     cause → seconds ({@link Badput#CAUSES})
 * @param badputCostDollars cause → dollars
 */
public record JobSnapshot(String namespace, String job, String model, String gpuType, String capacity, String phase,
        double costDollars, double gpuSeconds, int preemptions, int failures, Double timeToTargetSeconds,
        Double costToTargetDollars, double goodputSeconds, Map<String, Double> badputSeconds,
        Map<String, Double> badputCostDollars) {

    public JobSnapshot {
        badputSeconds = badputSeconds == null ? Map.of() : Map.copyOf(badputSeconds);
        badputCostDollars = badputCostDollars == null ? Map.of() : Map.copyOf(badputCostDollars);
    }

    public static JobSnapshot of(String namespace, String name, TrainingJobSpec spec, TrainingJobStatus status) {
        TrainingJobStatus s = status == null ? new TrainingJobStatus() : status;
        String model = spec != null && spec.model != null && spec.model.architecture != null ? spec.model.architecture : "unknown";
        int gpus = spec != null && spec.resources != null && spec.resources.gpus != null ? spec.resources.gpus : 0;
        String gpuType = gpus == 0 ? "none"
                : spec.resources.gpuType == null || spec.resources.gpuType.isBlank() ? "unknown" : spec.resources.gpuType;
        Accounting a = s.accounting == null ? new Accounting() : s.accounting;
        return new JobSnapshot(namespace, name, model, gpuType, PriceTable.capacity(spec == null ? null : spec.resources),
                s.phase == null ? null : s.phase.name(), orZero(s.cost), orZero(s.gpuSeconds), s.preemptions == null ? 0 : s.preemptions,
                s.failures == null ? 0 : s.failures, s.timeToTargetSeconds, s.costToTarget, a.goodputSeconds,
                (a.badputSeconds == null ? new Badput() : a.badputSeconds).asMap(),
                (a.badputCost == null ? new Badput() : a.badputCost).asMap());
    }

    private static double orZero(Double d) {
        return d == null ? 0 : d;
    }
}
