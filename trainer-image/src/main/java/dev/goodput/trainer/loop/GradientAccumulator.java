package dev.goodput.trainer.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.runtime.NativeScalar;
import java.util.ArrayList;
import java.util.List;

/**
 * Forward and backward of micro-batches into the parameters' gradients. libtorch adds each backward pass into the
 * existing gradients and DJL never clears them, so k passes accumulate k mean-gradients; the caller scales by 1/k and
 * must call {@link #zeroGradients} after the update.
 */
public final class GradientAccumulator implements GradientSource {
    private final Block block;
    private final ParameterStore parameterStore;
    private final List<Pair<String, Parameter>> trainable = new ArrayList<>();
    private List<TrainableParameter> handles;

    public GradientAccumulator(Block block, ParameterStore parameterStore) {
        this.block = block;
        this.parameterStore = parameterStore;
        for (Pair<String, Parameter> p : block.getParameters()) {
            if (p.getValue().requiresGradient()) trainable.add(p);
        }
    }

    /** One micro-batch: adds d(mean loss)/d(params) to the gradients and returns the mean loss. */
    public float forwardBackward(NDArray x, NDArray y) {
        return forwardBackward(x, y, 1f);
    }

    /**
     * As {@link #forwardBackward(NDArray, NDArray)}, with the loss multiplied by {@code lossScale} before backward (the
     * gradients are scaled by it too). fp16 logits are upcast to fp32 first: softmax and its log need the range.
     */
    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        // Its own scope: the activations of this micro-batch are freed before the next one runs, so accumulating k
        // micro-batches needs the memory of one, which is the point of accumulating.
        try (NDScope scope = new NDScope(); GradientCollector gc = Engine.getInstance().newGradientCollector()) {
            NDArray logits = block.forward(parameterStore, new NDList(x), true).singletonOrThrow();
            if (logits.getDataType() == DataType.FLOAT16) {
                // toType is not differentiable in DJL; a product with an fp32 one promotes and keeps the graph.
                logits = logits.mul(logits.getManager().ones(new Shape(1)));
            }
            NDArray loss = Losses.crossEntropy(logits, y);
            gc.backward(lossScale == 1f ? loss : NativeScalar.multiply(loss, lossScale));
            return loss.getFloat();
        }
    }

    /**
     * The trainable parameters with handles to their gradients. libtorch accumulates into and zeroes a gradient in
     * place, so the handles fetched after the first backward serve every later step; fetching them each step cost
     * native calls and NDArrays per parameter. This relies on the parameters' arrays never being replaced (checkpoints
     * restore into them). The handles belong to this accumulator, not to the caller's NDScope: do not close them.
     */
    @Override
    public List<TrainableParameter> gradients() {
        if (handles == null) handles = gradientHandles(trainable);
        return handles;
    }

    /**
     * Each parameter with a handle to its gradient, fetched once after a backward (see {@link #gradients()}); the
     * handles are not the caller's NDScope's.
     */
    public static List<TrainableParameter> gradientHandles(Iterable<Pair<String, Parameter>> parameters) {
        List<TrainableParameter> fetched = new ArrayList<>();
        for (Pair<String, Parameter> p : parameters) {
            NDArray value = p.getValue().getArray();
            NDArray gradient = value.getGradient();
            NDScope.unregister(gradient);
            fetched.add(new TrainableParameter(p.getKey(), value, gradient));
        }
        return List.copyOf(fetched);
    }

    @Override
    public void zeroGradients() {
        for (Pair<String, Parameter> p : trainable) JniUtils.zeroGrad((PtNDArray) p.getValue().getArray());
    }
}
