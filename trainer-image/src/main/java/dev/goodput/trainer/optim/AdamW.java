package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) with torch.optim.AdamW's semantics (weight decay lr * wd * w, bias-corrected m and v,
 * eps added to the corrected sqrt(v)), all parameters updated in place by one call to libtorch's fused kernel. The
 * state is m and v by parameter name plus the step count, as checkpoints store it.
 */
public final class AdamW implements Optimizer {
    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double eps;
    private final double weightDecay;
    private final FusedAdamWKernel kernel;
    private final Map<String, NDArray> mean = new LinkedHashMap<>();
    private final Map<String, NDArray> variance = new LinkedHashMap<>();
    private long t;

    public AdamW(NDManager manager, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = manager;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
        this.kernel = new FusedAdamWKernel(manager);
    }

    /** As {@link Optimizer#step}; when {@code gradScale} is not 1 the gradients are left scaled by it. */
    @Override
    public void step(List<TrainableParameter> params, double lr, float gradScale) {
        t++;
        int n = params.size();
        PtNDArray[] values = new PtNDArray[n];
        PtNDArray[] grads = new PtNDArray[n];
        PtNDArray[] m = new PtNDArray[n];
        PtNDArray[] v = new PtNDArray[n];
        for (int i = 0; i < n; i++) {
            TrainableParameter p = params.get(i);
            values[i] = (PtNDArray) p.value();
            grads[i] = (PtNDArray) p.gradient();
            m[i] = (PtNDArray) mean.computeIfAbsent(p.name(), k -> zerosLike(p.value()));
            v[i] = (PtNDArray) variance.computeIfAbsent(p.name(), k -> zerosLike(p.value()));
        }
        kernel.update(values, grads, m, v, t, lr, beta1, beta2, weightDecay, eps, gradScale);
    }

    private NDArray zerosLike(NDArray value) {
        NDArray z = manager.zeros(value.getShape(), value.getDataType(), value.getDevice());
        // Created inside a step's NDScope but must outlive it.
        NDScope.unregister(z);
        return z;
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>();
        mean.forEach((k, v) -> s.put("m/" + k, v));
        variance.forEach((k, v) -> s.put("v/" + k, v));
        return s;
    }

    @Override
    public long stepCount() {
        return t;
    }

    @Override
    public void restore(Map<String, NDArray> state) {
        state.forEach((k, v) -> {
            NDArray copy = v.duplicate();
            copy.attach(manager);
            NDScope.unregister(copy);
            if (k.startsWith("m/")) mean.put(k.substring(2), copy);
            else if (k.startsWith("v/")) variance.put(k.substring(2), copy);
            else throw new IllegalArgumentException("unknown AdamW state " + k);
        });
    }

    @Override
    public void restoreStepCount(long stepCount) {
        t = stepCount;
    }
}
