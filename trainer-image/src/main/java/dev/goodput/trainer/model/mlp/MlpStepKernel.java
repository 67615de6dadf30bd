package dev.goodput.trainer.model.mlp;

import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.engine.PtNDManager;
import ai.djl.pytorch.engine.PtSymbolBlock;
import ai.djl.pytorch.jni.IValue;
import ai.djl.pytorch.jni.IValueUtils;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.UUID;

/**
 * The MLP's forward and backward of one micro-batch in one native call: the TorchScript module mlp_step.pt (written and
 * checked against autograd by src/main/torchscript/mlp_step.py). It is bound to one network's parameters and gradient
 * arrays, whose lists are built once and passed by reference on every call; they and the module close with the
 * manager.
 */
final class MlpStepKernel {
    private static final String RESOURCE = "mlp_step.pt";
    private final PtSymbolBlock module;
    private final IValue weights;
    private final IValue biases;
    private final IValue weightGradients;
    private final IValue biasGradients;

    MlpStepKernel(NDManager manager, PtNDArray[] weights, PtNDArray[] biases, PtNDArray[] weightGradients,
                  PtNDArray[] biasGradients) {
        try (InputStream in = MlpStepKernel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the trainer's classpath");
            module = JniUtils.loadModule((PtNDManager) manager, in, false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        this.weights = IValue.listFrom(weights);
        this.biases = IValue.listFrom(biases);
        this.weightGradients = IValue.listFrom(weightGradients);
        this.biasGradients = IValue.listFrom(biasGradients);
        manager.attachInternal(UUID.randomUUID().toString(), this.weights, this.biases, this.weightGradients,
                this.biasGradients);
    }

    /**
     * Forward and backward of {@code x} (N, ...) with class indices {@code y}: the gradients of the mean loss times
     * {@code lossScale}, added to the gradient arrays when {@code accumulate}, written over them when not.
     *
     * @return the micro-batch's mean loss, unscaled
     */
    float run(PtNDArray x, PtNDArray y, float lossScale, boolean accumulate) {
        IValue[] args = {IValue.from(x), IValue.from(y), weights, biases, weightGradients, biasGradients,
                IValue.from((double) lossScale), IValue.from(accumulate)};
        try (IValue loss = IValueUtils.runMethod(module, "forward", args)) {
            return (float) loss.toDouble();
        } finally {
            args[0].close();
            args[1].close();
            args[6].close();
            args[7].close();
        }
    }
}
