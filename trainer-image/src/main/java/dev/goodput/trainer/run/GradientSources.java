package dev.goodput.trainer.run;

import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.model.mlp.MlpNetwork;
import dev.goodput.trainer.model.mlp.MlpStepGradients;
import dev.goodput.trainer.recompute.RecomputedGradients;
import dev.goodput.trainer.recompute.Segmented;

/** Which computation gives one replica's gradients: the same gradients each time, by the cheapest way the model has. */
public final class GradientSources {
    private GradientSources() {}

    /**
     * Segments recomputed in backward when gradient checkpointing is on and the model has them; the built-in MLP's
     * one-graph step where it serves the network ({@link MlpStepGradients#supports}); DJL's blocks and autograd
     * otherwise.
     *
     * @param block initialised, frozen as spec.model says, and converted to fp16 when {@code halfPrecision}
     */
    public static GradientSource forModel(Block block, ParameterStore parameterStore, boolean recompute, boolean halfPrecision) {
        if (recompute && block instanceof Segmented segmented) return new RecomputedGradients(segmented, parameterStore);
        if (MlpStepGradients.supports(block, halfPrecision)) return new MlpStepGradients((MlpNetwork) block);
        return new GradientAccumulator(block, parameterStore);
    }
}
