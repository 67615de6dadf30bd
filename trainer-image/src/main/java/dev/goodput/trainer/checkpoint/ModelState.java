package dev.goodput.trainer.checkpoint;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.optim.Optimizer;
import java.util.LinkedHashMap;
import java.util.Map;

/** Moves model parameters (BN running statistics included) and optimizer state between live arrays and snapshots. */
public final class ModelState {
    private ModelState() {}

    /** Phase one of a save: copy every array to host memory, on the training thread, between steps. */
    public static Snapshot snapshot(PairList<String, Parameter> parameters, Optimizer optimizer, TrainingState state) {
        Map<String, byte[]> params = new LinkedHashMap<>();
        for (Pair<String, Parameter> p : parameters) params.put(p.getKey(), p.getValue().getArray().encode());
        Map<String, byte[]> opt = new LinkedHashMap<>();
        optimizer.state().forEach((k, v) -> opt.put(k, v.encode()));
        return new Snapshot(state, params, opt);
    }

    /** Writes a snapshot's arrays into the live model and optimizer; names must match exactly. */
    public static void restore(Snapshot s, PairList<String, Parameter> parameters, Optimizer optimizer, NDManager manager) {
        if (!s.parameters().keySet().equals(new java.util.LinkedHashSet<>(parameters.keys()))) {
            throw new IllegalStateException("checkpoint parameters do not match the model (was spec.model changed?): checkpoint has "
                    + s.parameters().size() + " arrays, model has " + parameters.size());
        }
        try (NDManager scratch = manager.newSubManager()) {
            for (Pair<String, Parameter> p : parameters) {
                NDArray saved = scratch.decode(s.parameters().get(p.getKey()));
                NDArray live = p.getValue().getArray();
                if (!saved.getShape().equals(live.getShape())) {
                    throw new IllegalStateException("checkpoint parameter " + p.getKey() + " has shape " + saved.getShape()
                            + ", model has " + live.getShape());
                }
                live.set(saved.toByteBuffer());
            }
            Map<String, NDArray> opt = new LinkedHashMap<>();
            s.optimizer().forEach((k, v) -> opt.put(k, scratch.decode(v)));
            optimizer.restore(opt); // its step count is a checkpointed component (OptimizerSteps)
        }
    }
}
