package dev.goodput.trainer.model.mlp;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.util.Pair;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in MLP's gradients from one native call per micro-batch ({@link MlpStepKernel}) instead of DJL's blocks and
 * autograd: the same aten kernels, so the same loss and gradients, for less of the per-op cost that dominates so small
 * a network's step (bench/README.md). It serves the networks {@link #supports} accepts; the others train through
 * {@code loop.GradientAccumulator}.
 *
 * <p>The gradients live in arrays of this source's own (the parameters' {@code .grad} is never set), handed to the
 * optimizer by {@link #gradients()}. {@link #zeroGradients()} writes nothing: it makes the next micro-batch write its
 * gradients over the arrays instead of adding to them, which saves a pass over every gradient each step.
 */
public final class MlpStepGradients implements GradientSource {
    private final MlpStepKernel kernel;
    private final List<TrainableParameter> gradients;
    /** False until a micro-batch has written this step's gradients: the next one overwrites what the arrays hold. */
    private boolean accumulate;

    /**
     * Whether this source computes {@code block}'s gradients: the built-in MLP, without dropout (whose masks its
     * blocks draw), every parameter trained (none frozen by {@code spec.model.trainable}) and in fp32 (mixed
     * precision trains fp16 copies through the loss scaler's path).
     */
    public static boolean supports(Block block, boolean halfPrecision) {
        if (!(block instanceof MlpNetwork mlp) || mlp.hasDropout() || halfPrecision) return false;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (!p.getValue().requiresGradient()) return false;
        }
        return true;
    }

    /** @param mlp initialised, with {@link #supports} true */
    public MlpStepGradients(MlpNetwork mlp) {
        if (!supports(mlp, false)) throw new IllegalArgumentException("the MLP has dropout or frozen layers");
        // Named as the network's parameters are (the optimizer's state and checkpoints key on the names).
        List<Pair<String, Parameter>> named = mlp.getParameters().stream().toList();
        List<Linear> layers = mlp.layers();
        int n = layers.size();
        PtNDArray[] weights = new PtNDArray[n];
        PtNDArray[] biases = new PtNDArray[n];
        PtNDArray[] weightGradients = new PtNDArray[n];
        PtNDArray[] biasGradients = new PtNDArray[n];
        List<TrainableParameter> handles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Linear layer = layers.get(i);
            weights[i] = (PtNDArray) layer.getParameters().get("weight").getArray();
            biases[i] = (PtNDArray) layer.getParameters().get("bias").getArray();
            weightGradients[i] = gradientFor(weights[i]);
            biasGradients[i] = gradientFor(biases[i]);
        }
        for (Pair<String, Parameter> p : named) {
            NDArray value = p.getValue().getArray();
            handles.add(new TrainableParameter(p.getKey(), value, gradientOf(value, weights, biases, weightGradients, biasGradients)));
        }
        this.gradients = List.copyOf(handles);
        this.kernel = new MlpStepKernel(weights[0].getManager(), weights, biases, weightGradients, biasGradients);
    }

    /** A zeroed array of the parameter's shape on its manager, not the caller's NDScope's (it lives as long as the run). */
    private static PtNDArray gradientFor(PtNDArray parameter) {
        PtNDArray g = (PtNDArray) parameter.getManager().zeros(parameter.getShape(), parameter.getDataType());
        NDScope.unregister(g);
        return g;
    }

    private static NDArray gradientOf(NDArray value, PtNDArray[] weights, PtNDArray[] biases, PtNDArray[] weightGradients,
                                      PtNDArray[] biasGradients) {
        for (int i = 0; i < weights.length; i++) {
            if (weights[i] == value) return weightGradients[i];
            if (biases[i] == value) return biasGradients[i];
        }
        throw new IllegalStateException("parameter not in the MLP's layers");
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        float loss = kernel.run((PtNDArray) x, (PtNDArray) y, lossScale, accumulate);
        accumulate = true;
        return loss;
    }

    @Override
    public List<TrainableParameter> gradients() {
        return gradients;
    }

    @Override
    public void zeroGradients() {
        accumulate = false;
    }
}
