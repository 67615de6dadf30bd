package dev.goodput.trainer.model.bert;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.loop.Losses;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.List;
import java.util.function.Supplier;

/**
 * The gradients of a {@link BertClassifier} by activation recomputation ("gradient checkpointing"): memory for one
 * encoder layer's activations instead of all of them, for one more forward pass of the encoder.
 *
 * <p>libtorch cannot do this for us (torch.utils.checkpoint is Python; the C++ API has no equivalent), so it is done
 * here, segment by segment. The forward runs with autograd off, keeping only each layer's input. The head (pooling,
 * dropout, classifier) and the loss run under autograd on the last hidden state, made a leaf, and their backward
 * gives that leaf's gradient. Then, from the last layer down, each layer runs again under autograd from its kept
 * input, and a backward from its output with the gradient just computed adds into its parameters' gradients and
 * yields the gradient of its input, the previous layer's output. The embeddings come last, and only when they train.
 *
 * <p>Dropout must draw the same masks in the recomputation as in the first pass, or the gradients would belong to a
 * different network: {@link DropoutSeeds} seeds libtorch's generator per (micro-batch, segment) in both. The model's
 * own training forward seeds the same way, so the gradients are bit-identical to {@link GradientAccumulator}'s.
 *
 * <p>Which parameters train, their gradient handles and zeroing are the plain accumulator's; only how the gradients
 * are computed differs.
 */
public final class RecomputedGradients implements GradientSource {
    private final BertClassifier model;
    private final ParameterStore parameterStore;
    private final GradientAccumulator parameters;

    public RecomputedGradients(BertClassifier model, ParameterStore parameterStore) {
        this.model = model;
        this.parameterStore = parameterStore;
        this.parameters = new GradientAccumulator(model, parameterStore);
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        try (NDScope scope = new NDScope(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            TokenBatch tokens = model.tokens(x);
            DropoutSeeds seeds = DropoutSeeds.draw(tokens.ids().getManager());
            int layers = model.layerCount();
            // inputs[i] is layer i's input; inputs[layers] is the last hidden state, the head's input.
            NDArray[] inputs = new NDArray[layers + 1];
            JniUtils.setGradMode(false);
            try {
                inputs[0] = keepingOnlyResult(() -> model.embed(parameterStore, tokens, true, seeds));
                for (int i = 0; i < layers; i++) {
                    NDArray input = inputs[i];
                    int layer = i;
                    inputs[i + 1] = keepingOnlyResult(() -> model.layer(parameterStore, layer, input, tokens, true, seeds));
                }
            } finally {
                JniUtils.setGradMode(true);
            }

            NDArray last = inputs[layers];
            last.setRequiresGradient(true);
            NDArray loss = Losses.crossEntropy(model.classify(parameterStore, last, tokens, true, seeds), y);
            collector.backward(lossScale == 1f ? loss : loss.mul(lossScale));
            NDArray gradient = last.getGradient();

            boolean embeddingsTrain = model.embeddingsTrainable();
            for (int i = layers - 1; i >= 0; i--) {
                NDArray input = inputs[i];
                boolean inputGradient = i > 0 || embeddingsTrain;
                NDArray outputGradient = gradient;
                int layer = i;
                gradient = keepingOnlyResult(() -> {
                    if (inputGradient) input.setRequiresGradient(true);
                    NDArray output = model.layer(parameterStore, layer, input, tokens, true, seeds);
                    JniUtils.backward((PtNDArray) output, (PtNDArray) outputGradient, false, false);
                    return inputGradient ? input.getGradient() : null;
                });
                // Free what this layer's backward consumed now, not at the end of the micro-batch.
                outputGradient.close();
                inputs[i + 1].close();
            }
            if (embeddingsTrain) {
                NDArray embeddingsGradient = gradient;
                keepingOnlyResult(() -> {
                    NDArray output = model.embed(parameterStore, tokens, true, seeds);
                    JniUtils.backward((PtNDArray) output, (PtNDArray) embeddingsGradient, false, false);
                    return null;
                });
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
