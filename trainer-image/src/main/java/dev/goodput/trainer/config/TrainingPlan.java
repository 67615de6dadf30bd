package dev.goodput.trainer.config;

import dev.goodput.api.spec.Durations;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.trainer.optim.LrSchedule;
import java.time.Duration;

/**
 * The run's settings with every default and derived value resolved, computed once from the spec and the data size.
 * Everything below reads this instead of the raw spec, so the rules for defaults live in one place.
 */
public record TrainingPlan(
        int globalBatch,
        int microBatch,
        int accumulation,
        long stepsPerEpoch,
        Long totalSteps,
        Integer epochs,
        Duration maxDuration,
        LrSchedule schedule,
        Double clipNorm,
        long seed,
        int threads,
        int loaderWorkers,
        int prefetch,
        Integer evalEverySteps,
        Duration checkpointInterval,
        int checkpointKeep) {

    /** Default warmup: 3 % of the run, at most 500 steps (enough for Adam's moments to settle). */
    static final double WARMUP_SHARE = 0.03;

    /**
     * Pre-flight, before any tuning: an explicit warmup that is not shorter than the run the spec plans (its epochs and
     * maxSteps over the data at the spec's global batch) would never reach the peak learning rate, so the whole run
     * would train at a fraction of it. Refused, naming the field and the run's length; a run with only a time budget or
     * a target has no planned length and is not checked.
     */
    public static void checkHorizon(TrainingJobSpec spec, int trainExamples) {
        TrainingSpec t = spec.training;
        if (t.schedule == null || t.schedule.warmupSteps == null || t.globalBatchSize == null) {
            return;
        }
        long perEpoch = Math.max(1, trainExamples / t.globalBatchSize);
        Long total = plannedSteps(t, perEpoch);
        if (total != null && t.schedule.warmupSteps >= total) {
            String run = (t.epochs != null ? t.epochs + " epoch(s) of " + perEpoch + " steps (" + trainExamples
                    + " examples at globalBatchSize " + t.globalBatchSize + ")" : "") + (t.epochs != null && t.maxSteps != null
                    ? ", at most " : "") + (t.maxSteps != null ? "maxSteps " + t.maxSteps : "");
            throw new IllegalArgumentException("spec.training.schedule.warmupSteps: " + t.schedule.warmupSteps
                    + " warmup steps in a run of " + total + " steps (" + run + "): the learning rate would never reach"
                    + " its peak; set warmupSteps below " + total + ", or leave it out (default: "
                    + Math.round(WARMUP_SHARE * 100) + " % of the run, at most 500 steps)");
        }
    }

    /** The run's length in optimizer steps from epochs and maxSteps (the smaller); null with neither. */
    static Long plannedSteps(TrainingSpec t, long stepsPerEpoch) {
        Long total = t.epochs == null ? null : t.epochs * stepsPerEpoch;
        if (t.maxSteps != null) total = total == null ? t.maxSteps : Math.min(total, t.maxSteps);
        return total;
    }

    public static TrainingPlan resolve(TrainingJobSpec spec, int trainExamples, BatchChoice batch, int cpus) {
        TrainingSpec t = spec.training;
        int global = batch.micro() * batch.accumulation();
        long perEpoch = Math.max(1, trainExamples / global);
        Long total = plannedSteps(t, perEpoch);
        int reference = t.referenceBatchSize == null ? t.globalBatchSize : t.referenceBatchSize;
        double peak = t.optimizer.lr * global / reference;
        long warmup = t.schedule.warmupSteps != null ? t.schedule.warmupSteps
                : total == null ? Math.min(500, perEpoch / 10) : Math.min(500, Math.round(total * WARMUP_SHARE));
        if ("onecycle".equals(t.schedule.name) && t.schedule.warmupSteps == null && total != null) {
            warmup = Math.round(total * 0.3);
        }
        // A decay schedule needs a horizon; with only a time budget or a target there is none, so hold the peak.
        String kind = total == null ? "constant" : t.schedule.name;
        double minRatio = t.schedule.minLrRatio != null ? t.schedule.minLrRatio : "onecycle".equals(kind) ? 4e-5 : 0.01;
        int threads = t.threads != null ? t.threads : Math.max(1, cpus);
        int workers = spec.data.loader.workers != null ? spec.data.loader.workers : 1;
        int prefetch = spec.data.loader.prefetch != null ? spec.data.loader.prefetch : 4;
        return new TrainingPlan(global, batch.micro(), batch.accumulation(), perEpoch, total, t.epochs,
                t.maxDuration == null ? null : Durations.parse(t.maxDuration),
                new LrSchedule(kind, peak, warmup, total == null ? 0 : total, minRatio),
                t.gradientClipNorm, t.seed == null ? 42 : t.seed, threads, workers, prefetch,
                spec.target == null ? null : spec.target.evalEverySteps,
                Durations.parse(spec.checkpoint.interval == null ? "5m" : spec.checkpoint.interval),
                spec.checkpoint.keep == null ? 3 : spec.checkpoint.keep);
    }
}
