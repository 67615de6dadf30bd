package dev.goodput.trainer.run;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import dev.goodput.trainer.checkpoint.ModelArrays;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.loop.Evaluator;
import dev.goodput.trainer.loop.TrainingStep;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.precision.LossScaler;
import java.util.List;

/**
 * What {@link ComponentAssembler} builds from a plan: the model, its optimizer (fp16's master weights inside), the
 * loss scaler (null in fp32), the step, the training batches and the evaluator. Closing it frees the other devices'
 * replicas; the model lives on the manager it was assembled on.
 */
public record Components(Block block, ModelArrays arrays, ParameterStore parameterStore, Optimizer optimizer, LossScaler scaler,
                         TrainingStep step, BatchAssembler train, Evaluator evaluator, List<NDManager> replicaManagers)
        implements AutoCloseable {

    /** Elements of the parameters that train: a TorchScript module's adapters in place of the weights they adapt. */
    public long parameterCount() {
        long n = 0;
        for (var p : block.getParameters()) {
            if (p.getValue().requiresGradient()) n += p.getValue().getArray().size();
        }
        return n - arrays.adapters().adaptedSize() + arrays.adapters().size();
    }

    /** Elements of every parameter, frozen ones included (adapters too). */
    public long allParameterCount() {
        long n = 0;
        for (var p : block.getParameters()) n += p.getValue().getArray().size();
        return n + arrays.adapters().size();
    }

    @Override
    public void close() {
        for (NDManager m : replicaManagers) m.close();
    }
}
