package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An exponential moving average of the model's weights (spec.training.emaDecay), kept beside an optimizer as Keras'
 * {@code use_ema} and TF Addons' {@code MovingAverage} keep it: after every update, {@code average := d * average +
 * (1 - d) * weights} for every array of the model that training changes, BatchNorm's running statistics included
 * (timm's ModelEma does the same); a frozen array is its own average. Training reads the weights themselves; evaluation and the exported model read the average
 * ({@link #inPlaceOfWeights}), which at a high learning rate sits nearer the minimum the noisy weights circle around:
 * with it the Fashion-MNIST example reached its target after 3.5 epochs instead of 4 to 5, and it lets the example
 * run a higher learning rate over a shorter plan (docs/trainer.md, Weight averaging).
 *
 * <p>The averages are fp32 whatever the model holds (an fp16 model's are averages of its fp16 weights) and belong to
 * the optimizer's state ({@value #PREFIX}name arrays), so checkpoints save and restore them with the moments, and a
 * resumed run averages exactly as the original. A checkpoint without them (written before emaDecay was set) starts
 * the average from the restored weights.
 */
public final class AveragedWeights implements Optimizer {
    public static final String PREFIX = "average/";
    private final Optimizer inner;
    private final double decay;
    private final List<Averaged> arrays = new ArrayList<>();

    /** One array the average covers: its checkpoint name, the model's array and its fp32 average. */
    private record Averaged(String name, NDArray weight, NDArray average) {}

    /**
     * @param parameters every array of the model, by its checkpoint name; those that change (trained parameters and
     *                   BatchNorm's running statistics) are averaged, starting from their values, and frozen ones,
     *                   whose average is themselves (a LoRA job's pretrained weights), are left out
     */
    public AveragedWeights(Optimizer inner, double decay, PairList<String, Parameter> parameters, NDManager manager) {
        if (!(decay > 0 && decay < 1)) throw new IllegalArgumentException("spec.training.emaDecay must be in (0, 1), got " + decay);
        this.inner = inner;
        this.decay = decay;
        for (Pair<String, Parameter> p : parameters) {
            if (!changes(p.getValue())) continue;
            NDArray w = p.getValue().getArray();
            // toType returns the array itself when the type is already right, whatever its copy flag says.
            NDArray a = w.getDataType() == DataType.FLOAT32 ? w.duplicate() : w.toType(DataType.FLOAT32, false);
            a.attach(manager);
            NDScope.unregister(a);
            arrays.add(new Averaged(p.getKey(), w, a));
        }
    }

    /** Whether training changes the array: a trained parameter, or a running statistic that the forward pass updates. */
    static boolean changes(Parameter p) {
        return p.requiresGradient() || p.getType() == Parameter.Type.RUNNING_MEAN || p.getType() == Parameter.Type.RUNNING_VAR;
    }

    /**
     * The decay of the update after {@code updates} optimizer steps: TensorFlow's {@code ExponentialMovingAverage}
     * with {@code num_updates}, {@code min(decay, (1 + updates) / (10 + updates))}, so that the first updates, when
     * the average still holds the initial weights, move it most.
     */
    public static double decayAt(double decay, long updates) {
        return Math.min(decay, (1.0 + updates) / (10.0 + updates));
    }

    @Override
    public void step(List<TrainableParameter> params, double lr, float gradScale) {
        inner.step(params, lr, gradScale);
        double d = decayAt(decay, inner.stepCount());
        try (NDScope scope = new NDScope()) {
            for (Averaged x : arrays) {
                NDArray w = x.weight().getDataType() == DataType.FLOAT32 ? x.weight() : x.weight().toType(DataType.FLOAT32, false);
                // a - (1 - d)(a - w) = d a + (1 - d) w, with one temporary
                x.average().subi(x.average().sub(w).muli(1 - d));
            }
        }
    }

    /** What {@link #inPlaceOfWeights} returns: closing it puts the weights back. */
    public interface Swap extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Puts the average into the model's arrays until the returned swap is closed, for an evaluation or an export; with
     * any other optimizer the weights stay as they are.
     */
    public static Swap inPlaceOfWeights(Optimizer optimizer) {
        return optimizer instanceof AveragedWeights a ? a.swapIn() : () -> {};
    }

    private Swap swapIn() {
        List<NDArray> saved = new ArrayList<>(arrays.size());
        for (Averaged x : arrays) {
            NDArray copy = x.weight().duplicate();
            NDScope.unregister(copy);
            saved.add(copy);
            copyInto(x.weight(), x.average());
        }
        return () -> {
            for (int i = 0; i < arrays.size(); i++) {
                NativeCopy.into(arrays.get(i).weight(), saved.get(i));
                saved.get(i).close();
            }
        };
    }

    private static void copyInto(NDArray target, NDArray source) {
        if (target.getDataType() == source.getDataType()) {
            NativeCopy.into(target, source);
        } else {
            try (NDArray cast = source.toType(target.getDataType(), false)) {
                NativeCopy.into(target, cast);
            }
        }
    }

    @Override
    public Map<String, NDArray> state() {
        Map<String, NDArray> s = new LinkedHashMap<>(inner.state());
        for (Averaged x : arrays) s.put(PREFIX + x.name(), x.average());
        return s;
    }

    @Override
    public long stepCount() {
        return inner.stepCount();
    }

    /**
     * Called after the model's arrays are restored. An array the checkpoint has no average of (written before emaDecay
     * was set, or frozen then) starts its average from its restored weights; an average of an array that is frozen now
     * is not needed.
     */
    @Override
    public void restore(Map<String, NDArray> state) {
        Map<String, NDArray> rest = new LinkedHashMap<>();
        for (Map.Entry<String, NDArray> e : state.entrySet()) {
            if (!e.getKey().startsWith(PREFIX)) rest.put(e.getKey(), e.getValue());
        }
        for (Averaged x : arrays) {
            NDArray saved = state.get(PREFIX + x.name());
            copyInto(x.average(), saved != null ? saved : x.weight());
        }
        inner.restore(rest);
    }

    @Override
    public void restoreStepCount(long stepCount) {
        inner.restoreStepCount(stepCount);
    }
}
