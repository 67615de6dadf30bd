package dev.goodput.trainer.loop;

import dev.goodput.trainer.checkpoint.CheckpointedState;

/**
 * Where the loop is, as a checkpoint holds it: the optimizer step, the data position (epoch, index into the epoch's
 * seeded permutation), the examples seen and the training time, all accrued across attempts.
 */
public record LoopPosition(long step, int epoch, int indexInEpoch, long samples, double trainingSeconds) {
    public static final CheckpointedState.Key<LoopPosition> KEY = new CheckpointedState.Key<>("position", LoopPosition.class);
}
