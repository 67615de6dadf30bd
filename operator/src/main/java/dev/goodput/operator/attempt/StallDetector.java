package dev.goodput.operator.attempt;

import dev.goodput.api.spec.Durations;
import dev.goodput.api.spec.StallSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TrainerReport;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * Whether a running trainer is stalled: it still answers /progress (so its pod looks healthy) but its step counter has
 * not moved for longer than {@code spec.stall.timeout}, by default {@value StallSpec#DEFAULT_STEPS} mean step times
 * and at least {@link StallSpec#DEFAULT_FLOOR} (an evaluation or a foreground save pauses the steps of a healthy run).
 * Only in the trainer's Running phase: tuning, checkpointing and start-up have no steps to count. A pure function of
 * the trainer's last report, the spec and the time.
 */
public final class StallDetector {
    private StallDetector() {}

    /** How long the steps have stood still, when that is a stall; null otherwise. */
    public static Duration stalledFor(TrainerReport live, TrainingJobSpec spec, Instant now) {
        Instant last = lastStepAt(live);
        if (last == null) {
            return null;
        }
        Duration still = Duration.between(last, now);
        return still.compareTo(timeout(live, spec)) > 0 ? still : null;
    }

    /**
     * How long from {@code now} until the steps would count as stalled if no step comes first, so the job is looked at
     * again then (progress answers that only move the steps trigger no reconcile); null when there is nothing to watch.
     */
    public static Duration untilStalled(TrainerReport live, TrainingJobSpec spec, Instant now) {
        Instant last = lastStepAt(live);
        if (last == null) {
            return null;
        }
        Duration left = Duration.between(now, last.plus(timeout(live, spec))).plus(RECHECK_MARGIN);
        return left.compareTo(RECHECK_MARGIN) < 0 ? RECHECK_MARGIN : left;
    }

    /** Past the deadline, so that the look then finds the stall strictly longer than the timeout. */
    static final Duration RECHECK_MARGIN = Duration.ofSeconds(1);

    private static Instant lastStepAt(TrainerReport live) {
        if (live == null || live.phase != TrainerPhase.Running || live.progress == null || live.progress.lastStepAt == null) {
            return null;
        }
        try {
            return Instant.parse(live.progress.lastStepAt);
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The timeout: the spec's, or the default from the trainer's throughput. */
    public static Duration timeout(TrainerReport live, TrainingJobSpec spec) {
        if (spec.stall != null && spec.stall.timeout != null) {
            return Durations.parse(spec.stall.timeout);
        }
        Duration floor = StallSpec.DEFAULT_FLOOR;
        Integer batch = spec.training == null ? null : spec.training.globalBatchSize;
        Double rate = live == null || live.progress == null ? null : live.progress.samplesPerSecond;
        if (batch == null || rate == null || rate <= 0) {
            return floor;
        }
        Duration steps = Duration.ofMillis((long) Math.ceil(StallSpec.DEFAULT_STEPS * batch / rate * 1000));
        return steps.compareTo(floor) > 0 ? steps : floor;
    }

    public static boolean restarts(TrainingJobSpec spec) {
        return spec.stall != null && Boolean.TRUE.equals(spec.stall.restart);
    }
}
