package dev.goodput.trainer.recompute;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.loop.Losses;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.runtime.NativeScalar;
import java.util.List;
import java.util.function.Supplier;

/**
 * The gradients of a {@link Segmented} model by activation recomputation ("gradient checkpointing"): memory for one
 * segment's activations instead of all of them, for one more forward pass of every segment but the last.
 *
 * <p>libtorch cannot do this for us (torch.utils.checkpoint is Python; the C++ API has no equivalent), so it is done
 * here, segment by segment. The forward runs with autograd off, keeping only each segment's input. The last segment
 * (the head) and the loss run under autograd on its input, made a leaf, and their backward gives that leaf's gradient.
 * Then, from the last segment but one down, each segment runs again under autograd from its kept input
 * ({@link Segmented.Pass#replay}), and a backward from its output with the gradient just computed adds into its
 * parameters' gradients and yields the gradient of its input, the previous segment's output. It stops at the lowest
 * segment that trains: below it there is nothing to compute (BERT's embeddings under LoRA, frozen stages).
 *
 * <p>Dropout must draw the same masks in the recomputation as in the first pass, or the gradients would belong to a
 * different network: {@link DropoutSeeds} seeds libtorch's generator per (micro-batch, segment) in both. The model's
 * own training forward seeds the same way, so the gradients are bit-identical to {@link GradientAccumulator}'s.
 *
 * <p>Which parameters train, their gradient handles and zeroing are the plain accumulator's; only how the gradients
 * are computed differs.
 */
public final class RecomputedGradients implements GradientSource {
    private final Segmented model;
    private final ParameterStore parameterStore;
    private final GradientAccumulator parameters;

    public RecomputedGradients(Segmented model, ParameterStore parameterStore) {
        this.model = model;
        this.parameterStore = parameterStore;
        this.parameters = new GradientAccumulator(model, parameterStore);
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector();
             Segmented.Pass pass = model.pass(parameterStore, x)) {
            int head = pass.segments() - 1;
            // lowest: the lowest segment that trains; segments below it need neither recomputing nor gradients.
            int lowest = 0;
            while (lowest < head && !pass.trains(lowest)) lowest++;
            // inputs[i] is segment i's input; inputs[head] is the head's.
            NDArray[] inputs = new NDArray[head + 1];
            inputs[0] = pass.input();
            JniUtils.setGradMode(false);
            try {
                for (int i = 0; i < head; i++) {
                    NDArray input = inputs[i];
                    int segment = i;
                    inputs[i + 1] = keepingOnlyResult(() -> pass.run(segment, input));
                }
            } finally {
                JniUtils.setGradMode(true);
            }

            NDArray last = inputs[head];
            boolean below = lowest < head;
            if (below) last.setRequiresGradient(true);
            NDArray logits = pass.run(head, last);
            if (logits.getDataType() == DataType.FLOAT16) {
                // As GradientAccumulator: softmax and its log need fp32's range; a product promotes and keeps the graph.
                logits = logits.mul(logits.getManager().ones(new Shape(1)));
            }
            NDArray loss = Losses.crossEntropy(logits, y);
            collector.backward(lossScale == 1f ? loss : NativeScalar.multiply(loss, lossScale));
            if (!below) return loss.getFloat();
            NDArray gradient = last.getGradient();

            for (int i = head - 1; i >= lowest; i--) {
                NDArray input = inputs[i];
                boolean inputGradient = i > lowest;
                NDArray outputGradient = gradient;
                int segment = i;
                gradient = keepingOnlyResult(() -> {
                    if (inputGradient) input.setRequiresGradient(true);
                    NDArray output = pass.replay(segment, input);
                    JniUtils.backward((PtNDArray) output, (PtNDArray) outputGradient, false, false);
                    return inputGradient ? input.getGradient() : null;
                });
                // Free what this segment's backward consumed now, not at the end of the micro-batch.
                outputGradient.close();
                inputs[i + 1].close();
            }
            return loss.getFloat();
        }
    }

    /**
     * Runs {@code step} in a scope of its own, so that the arrays it makes are freed as soon as it returns, except its
     * result, which moves to the enclosing scope.
     */
    private static NDArray keepingOnlyResult(Supplier<NDArray> step) {
        NDArray result;
        try (NDScope scope = new NDScope()) {
            result = step.get();
            if (result != null) NDScope.unregister(result);
        }
        if (result != null) NDScope.register(result);
        return result;
    }

    @Override
    public List<TrainableParameter> gradients() {
        return parameters.gradients();
    }

    @Override
    public void zeroGradients() {
        parameters.zeroGradients();
    }
}
