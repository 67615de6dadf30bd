package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * SGD with momentum and optional Nesterov, as torch.optim.SGD (dampening 0): the momentum buffer holds gradients, not
 * lr-scaled steps, so a schedule change takes effect at once. The gradient is modified in place; the trainer zeroes
 * it after every step anyway.
 */
public final class Sgd implements Optimizer {
    private final NDManager manager;
    private final float momentum;
    private final boolean nesterov;
    private final float weightDecay;
    private final Map<String, NDArray> buffers = new LinkedHashMap<>();
    private long t;

    public Sgd(NDManager manager, double momentum, boolean nesterov, double weightDecay) {
        this.manager = manager;
        this.momentum = (float) momentum;
        this.nesterov = nesterov;
        this.weightDecay = (float) weightDecay;
    }

    @Override
    public void step(List<TrainableParameter> params, double lr, float gradScale) {
        t++;
        for (TrainableParameter p : params) {
            NDArray g = p.gradient();
            NDArray w = p.value();
            if (gradScale != 1f) g.muli(gradScale);
            if (weightDecay != 0f) {
                try (NDArray decay = w.mul(weightDecay)) {
                    g.addi(decay);
                }
            }
            NDArray direction = g;
            if (momentum != 0f) {
                NDArray buf = buffers.get(p.name());
                if (buf == null) {
                    buf = g.duplicate();
                    buf.attach(manager);
                    NDScope.unregister(buf);
                    buffers.put(p.name(), buf);
                } else {
                    buf.muli(momentum).addi(g);
                }
                if (nesterov) {
                    try (NDArray ahead = buf.mul(momentum)) {
                        g.addi(ahead);
                    }
                } else {
                    direction = buf;
                }
            }
            try (NDArray delta = direction.mul((float) lr)) {
                w.subi(delta);
            }
        }
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>();
        buffers.forEach((k, v) -> s.put("momentum/" + k, v));
        return s;
    }

    @Override
    public long stepCount() {
        return t;
    }

    @Override
    public void restore(Map<String, NDArray> state) {
        state.forEach((k, v) -> {
            if (!k.startsWith("momentum/")) throw new IllegalArgumentException("unknown SGD state " + k);
            NDArray copy = v.duplicate();
            copy.attach(manager);
            NDScope.unregister(copy);
            buffers.put(k.substring("momentum/".length()), copy);
        });
    }

    @Override
    public void restoreStepCount(long stepCount) {
        t = stepCount;
    }
}
