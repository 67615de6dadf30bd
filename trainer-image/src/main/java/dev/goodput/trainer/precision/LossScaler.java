package dev.goodput.trainer.precision;

import ai.djl.ndarray.NDArray;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.List;

/**
 * Dynamic loss scaling for fp16 (Micikevicius et al. 2018, as torch.cuda.amp.GradScaler): the loss is multiplied by
 * the scale before backward so small gradients survive fp16; a step whose gradients overflowed is skipped and the scale
 * halved; after {@code growthInterval} good steps in a row the scale doubles.
 */
public final class LossScaler {
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

    public void restore(double scale, int goodSteps, long skipped) {
        this.scale = scale;
        this.goodSteps = goodSteps;
        this.skipped = skipped;
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
