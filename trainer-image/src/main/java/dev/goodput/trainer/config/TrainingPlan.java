package dev.goodput.trainer.config;

import dev.goodput.trainer.optim.LrSchedule;
import java.time.Duration;

/**
 * The run's steps once its batch is known: batch and accumulation, the run's length, the learning-rate schedule,
 * clipping, the loader and the checkpoint cadence, every default resolved by {@code run.RunPlanner}. The loop reads
 * this instead of the raw spec. With several processes, {@code globalBatch} is the whole batch of one step over all
 * of them, and {@code microBatch x accumulation} is this process's share ({@code shard}).
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
        int checkpointKeep,
        dev.goodput.trainer.data.DataShard shard) {
}
