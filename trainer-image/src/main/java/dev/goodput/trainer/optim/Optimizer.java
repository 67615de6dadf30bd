package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import java.util.List;
import java.util.Map;

/**
 * An optimizer whose whole state is visible: named arrays plus a step count, so a checkpoint can save and restore it
 * by parameter name. DJL's own optimizers key state by per-run ids in private fields, which cannot be checkpointed.
 */
public interface Optimizer {

    /**
     * Updates every parameter in place.
     *
     * @param gradScale factor applied to every gradient first (unscaling for accumulation, clipping, loss scaling)
     */
    void step(List<TrainableParameter> params, double lr, float gradScale);

    /** State arrays by name ("m/<param>", "v/<param>", ...), live: do not close them. */
    Map<String, NDArray> state();

    long stepCount();

    /** Restores arrays saved from {@link #state()}; they are copied into this optimizer's manager. */
    void restore(Map<String, NDArray> state);

    /** Restores the step count, checkpointed apart from the arrays ({@link OptimizerSteps}). */
    void restoreStepCount(long stepCount);
}
