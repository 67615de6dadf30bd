package dev.goodput.trainer.loop;

import ai.djl.ndarray.NDArray;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.List;

/** Where a step's gradients come from: one model replica, or several devices' replicas averaged. */
public interface GradientSource {
    /**
     * Forward and backward of one micro-batch, adding its gradients to this step's (the gradients of {@code lossScale}
     * times its mean loss); returns the batch's mean loss.
     */
    float forwardBackward(NDArray x, NDArray y, float lossScale);

    /** The parameters the optimizer updates, with this step's gradients. */
    List<TrainableParameter> gradients();

    /**
     * Ends a step: the next micro-batch's gradients start the next step's. A source may zero its arrays now or have
     * the next micro-batch write over them; either way the gradients are not to be read until it has run.
     */
    void zeroGradients();

    /** Called after the optimizer changed the parameters, e.g. to copy them to other replicas. */
    default void afterUpdate() {}

    /**
     * The step's loss to report, given the mean over this process's micro-batches; called after {@link #gradients()}.
     * Across processes, the mean over all of them.
     */
    default double stepLoss(double localMean) {
        return localMean;
    }
}
