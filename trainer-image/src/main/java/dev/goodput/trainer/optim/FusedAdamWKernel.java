package dev.goodput.trainer.optim;

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

/**
 * libtorch's fused AdamW (torch._fused_adamw_) over all parameters in one call, through the TorchScript module
 * fused_adamw.pt (written by src/main/torchscript/fused_adamw.py; DJL has no binding for the op). One pass over each
 * parameter instead of the dozen that DJL's per-parameter adamUpdate makes, and one native call per step.
 */
final class FusedAdamWKernel {
    private static final String RESOURCE = "fused_adamw.pt";
    private final PtSymbolBlock module;

    /** Loads the module; it holds no tensors, so it serves parameters on any device. Closes with {@code manager}. */
    FusedAdamWKernel(NDManager manager) {
        try (InputStream in = FusedAdamWKernel.class.getResourceAsStream(RESOURCE)) {
            if (in == null) throw new IllegalStateException(RESOURCE + " is missing from the trainer's classpath");
            module = JniUtils.loadModule((PtNDManager) manager, in, false, false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * torch.optim.AdamW's update of step {@code t} (1-based), in place on params, m and v. Gradients are multiplied by
     * {@code gradScale} first; when it is not 1 the kernel writes the scaled gradients back into {@code grads}.
     */
    void update(PtNDArray[] params, PtNDArray[] grads, PtNDArray[] m, PtNDArray[] v, long t, double lr, double beta1,
                double beta2, double weightDecay, double eps, double gradScale) {
        IValue[] args = {IValue.listFrom(params), IValue.listFrom(grads), IValue.listFrom(m), IValue.listFrom(v),
                IValue.listFrom(new double[] {t, lr, beta1, beta2, weightDecay, eps, gradScale})};
        try {
            IValueUtils.runMethod(module, "forward", args).close();
        } finally {
            for (IValue a : args) a.close();
        }
    }
}
