package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW (Loshchilov and Hutter) with PyTorch's semantics, updated in place by one native call per parameter. The
 * native kernel folds bias correction into the step size and adds eps to sqrt(v) uncorrected; passing
 * eps * sqrt(1 - beta2^t) makes the result equal torch.optim.AdamW's.
 */
public final class AdamW implements Optimizer {
    private final NDManager manager;
    private final float beta1;
    private final float beta2;
    private final float eps;
    private final float weightDecay;
    private final Map<String, NDArray> mean = new LinkedHashMap<>();
    private final Map<String, NDArray> variance = new LinkedHashMap<>();
    private long t;

    public AdamW(NDManager manager, double beta1, double beta2, double eps, double weightDecay) {
        this.manager = manager;
        this.beta1 = (float) beta1;
        this.beta2 = (float) beta2;
        this.eps = (float) eps;
        this.weightDecay = (float) weightDecay;
    }

    @Override
    public void step(List<TrainableParameter> params, double lr, float gradScale) {
        t++;
        double bc1 = 1 - Math.pow(beta1, t);
        double bc2 = 1 - Math.pow(beta2, t);
        float stepSize = (float) (lr * Math.sqrt(bc2) / bc1);
        float epsHat = (float) (eps * Math.sqrt(bc2));
        for (TrainableParameter p : params) {
            NDArray m = mean.computeIfAbsent(p.name(), k -> zerosLike(p.value()));
            NDArray v = variance.computeIfAbsent(p.name(), k -> zerosLike(p.value()));
            JniUtils.adamUpdate((PtNDArray) p.value(), (PtNDArray) p.gradient(), (PtNDArray) m, (PtNDArray) v,
                    (float) lr, stepSize, weightDecay, gradScale, -1f, beta1, beta2, epsHat, true);
        }
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
    public void restore(Map<String, NDArray> state, long stepCount) {
        state.forEach((k, v) -> {
            NDArray copy = v.duplicate();
            copy.attach(manager);
            NDScope.unregister(copy);
            if (k.startsWith("m/")) mean.put(k.substring(2), copy);
            else if (k.startsWith("v/")) variance.put(k.substring(2), copy);
            else throw new IllegalArgumentException("unknown AdamW state " + k);
        });
        t = stepCount;
    }
}
