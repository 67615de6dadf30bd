package dev.goodput.trainer.precision;

import ai.djl.ndarray.NDArray;
import dev.goodput.trainer.checkpoint.CheckpointedState;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.List;

/**
 * Dynamic loss scaling for fp16 (Micikevicius et al. 2018, as torch.cuda.amp.GradScaler): the loss is multiplied by
 * the scale before backward so small gradients survive fp16; a step whose gradients overflowed is skipped and the scale
 * halved; after {@code growthInterval} good steps in a row the scale doubles. Its state is checkpointed, so a resumed
 * run scales (and skips) exactly as the original would have.
 */
public final class LossScaler implements CheckpointedState<LossScaler.State> {
    public static final Key<State> KEY = new Key<>("lossScaler", State.class);
    public static final double INITIAL = 65536;
    /** Good steps in a row before the scale doubles (GradScaler's default). */
    public static final int GROWTH_INTERVAL = 2000;
    private final int growthInterval;
    private double scale;
    private int goodSteps;
    private long skipped;

    public LossScaler(double initial, int growthInterval) {
        this.scale = initial;
        this.growthInterval = growthInterval;
    }

    public double scale() {
        return scale;
    }

    public int goodSteps() {
        return goodSteps;
    }

    public long skippedSteps() {
        return skipped;
    }

    /** The scale, the good steps in a row toward the next doubling, and the steps skipped so far (all attempts). */
    public record State(double scale, int goodSteps, long skippedSteps) {}

    @Override
    public Key<State> key() {
        return KEY;
    }

    @Override
    public State save() {
        return new State(scale, goodSteps, skipped);
    }

    @Override
    public void restore(State s) {
        this.scale = s.scale();
        this.goodSteps = s.goodSteps();
        this.skipped = s.skippedSteps();
    }

    /** A checkpoint written in fp32 has no loss scale: an fp16 run resumed from it starts from the initial scale. */
    @Override
    public boolean optional() {
        return true;
    }

    /** True when any gradient holds inf or NaN. */
    public static boolean overflowed(List<TrainableParameter> params) {
        for (TrainableParameter p : params) {
            NDArray g = p.gradient();
            if (g.isInfinite().any().getBoolean() || g.isNaN().any().getBoolean()) return true;
        }
        return false;
    }

    /** Records the outcome of a step; returns whether the optimizer may apply it. */
    public boolean update(boolean overflow) {
        if (overflow) {
            scale = Math.max(1, scale / 2);
            goodSteps = 0;
            skipped++;
            return false;
        }
        if (++goodSteps >= growthInterval) {
            scale *= 2;
            goodSteps = 0;
        }
        return true;
    }
}
