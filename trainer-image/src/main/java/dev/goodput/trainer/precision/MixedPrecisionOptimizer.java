package dev.goodput.trainer.precision;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs an optimizer on fp32 master weights for parameters the model holds in fp16: gradients are upcast, the inner
 * optimizer updates the master, and the master is copied back into the fp16 parameter. Masters are part of the
 * optimizer state, so a checkpoint keeps full precision.
 */
public final class MixedPrecisionOptimizer implements Optimizer {
    private static final String MASTER = "master/";
    private final Optimizer inner;
    private final Map<String, NDArray> masters;

    public MixedPrecisionOptimizer(Optimizer inner, Map<String, NDArray> masters) {
        this.inner = inner;
        this.masters = new LinkedHashMap<>(masters);
    }

    @Override
    public void step(List<TrainableParameter> params, double lr, float gradScale) {
        List<TrainableParameter> work = new ArrayList<>(params.size());
        List<TrainableParameter> half = new ArrayList<>();
        for (TrainableParameter p : params) {
            NDArray master = masters.get(p.name());
            if (master == null) {
                work.add(p);
            } else {
                work.add(new TrainableParameter(p.name(), master, p.gradient().toType(DataType.FLOAT32, false)));
                half.add(p);
            }
        }
        inner.step(work, lr, gradScale);
        for (TrainableParameter p : half) {
            try (NDArray h = masters.get(p.name()).toType(DataType.FLOAT16, false)) {
                NativeCopy.into(p.value(), h);
            }
        }
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>(inner.state());
        masters.forEach((k, v) -> s.put(MASTER + k, v));
        return s;
    }

    @Override
    public long stepCount() {
        return inner.stepCount();
    }

    @Override
    public void restore(Map<String, NDArray> state) {
        Map<String, NDArray> rest = new LinkedHashMap<>();
        state.forEach((k, v) -> {
            if (k.startsWith(MASTER)) {
                NDArray m = masters.get(k.substring(MASTER.length()));
                if (m == null) throw new IllegalArgumentException("checkpoint has a master weight the model lacks: " + k);
                NativeCopy.into(m, v);
            } else {
                rest.put(k, v);
            }
        });
        inner.restore(rest);
    }

    @Override
    public void restoreStepCount(long stepCount) {
        inner.restoreStepCount(stepCount);
    }
}
