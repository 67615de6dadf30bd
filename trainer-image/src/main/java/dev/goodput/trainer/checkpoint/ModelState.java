package dev.goodput.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.model.torchscript.ModuleBuffers;
import dev.goodput.trainer.optim.AveragedWeights;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * Moves model parameters (BN running statistics included) and optimizer state between live arrays and snapshots.
 * A TorchScript model's buffers (its BatchNorm running statistics, which are not parameters there) travel with the
 * parameters, as {@value #BUFFER_PREFIX}name entries after them; built-in models have none, so their checkpoints are
 * byte for byte what they were.
 */
public final class ModelState {
    /** Keys of buffers among the parameters; no parameter name has it (DJL names are letters, digits, '_' and '.'). */
    public static final String BUFFER_PREFIX = "buffer/";

    private ModelState() {}

    /** Phase one of a save: copy the model's arrays to host memory, on the training thread, between steps. */
    public static Snapshot snapshot(ModelArrays model, Optimizer optimizer, TrainingState state) {
        return snapshot(model.parameters(), model.buffers(), optimizer, state);
    }

    /** Writes a snapshot's arrays into the live model and optimizer; names must match exactly. */
    public static void restore(Snapshot s, ModelArrays model, Optimizer optimizer, NDManager manager) {
        restore(s, model.parameters(), model.buffers(), optimizer, manager);
        model.adapters().merge();
    }

    /** Phase one of a save: copy every array to host memory, on the training thread, between steps. */
    public static Snapshot snapshot(PairList<String, Parameter> parameters, Optimizer optimizer, TrainingState state) {
        return snapshot(parameters, ModuleBuffers.none(), optimizer, state);
    }

    /** As {@link #snapshot(PairList, Optimizer, TrainingState)}, with a TorchScript model's buffers. */
    public static Snapshot snapshot(PairList<String, Parameter> parameters, ModuleBuffers buffers, Optimizer optimizer,
                                    TrainingState state) {
        Map<String, byte[]> params = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : parameters) params.put(p.getKey(), p.getValue().getArray().encode());
        buffers.read().forEach((k, v) -> params.put(BUFFER_PREFIX + k, v));
        Map<String, byte[]> opt = new LinkedHashMap<>();
        optimizer.state().forEach((k, v) -> opt.put(k, v.encode()));
        return new Snapshot(state, params, opt);
    }

    /** Writes a snapshot's arrays into the live model and optimizer; names must match exactly. */
    public static void restore(Snapshot s, PairList<String, Parameter> parameters, Optimizer optimizer, NDManager manager) {
        restore(s, parameters, ModuleBuffers.none(), optimizer, manager);
    }

    /** As {@link #restore(Snapshot, PairList, Optimizer, NDManager)}, with a TorchScript model's buffers. */
    public static void restore(Snapshot s, PairList<String, Parameter> parameters, ModuleBuffers buffers,
                               Optimizer optimizer, NDManager manager) {
        Set<String> expected = new LinkedHashSet<>(parameters.keys());
        for (String b : buffers.names()) expected.add(BUFFER_PREFIX + b);
        if (!s.parameters().keySet().equals(expected)) {
            throw new IllegalStateException("checkpoint parameters do not match the model (was spec.model changed?): checkpoint has "
                    + s.parameters().size() + " arrays, model has " + expected.size());
        }
        try (NDManager scratch = manager.newSubManager()) {
            for (Pair<String, Parameter> p : parameters) {
                NDArray saved = scratch.decode(s.parameters().get(p.getKey()));
                NDArray live = p.getValue().getArray();
                if (!saved.getShape().equals(live.getShape())) {
                    throw new IllegalStateException("checkpoint parameter " + p.getKey() + " has shape " + saved.getShape()
                            + ", model has " + live.getShape());
                }
                NativeCopy.into(live, saved);
            }
            Map<String, byte[]> savedBuffers = new LinkedHashMap<>();
            for (String b : buffers.names()) savedBuffers.put(b, s.parameters().get(BUFFER_PREFIX + b));
            buffers.write(savedBuffers);
            Map<String, NDArray> opt = new LinkedHashMap<>();
            s.optimizer().forEach((k, v) -> {
                // A checkpoint written with spec.training.emaDecay, resumed without it: the average is not needed.
                if (!k.startsWith(AveragedWeights.PREFIX) || optimizer instanceof AveragedWeights) opt.put(k, scratch.decode(v));
            });
            optimizer.restore(opt); // its step count is a checkpointed component (OptimizerSteps)
        }
    }
}
