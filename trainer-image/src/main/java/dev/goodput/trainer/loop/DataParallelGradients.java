package dev.goodput.trainer.loop;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.runtime.NativeCopy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Data parallelism inside one pod: one model replica per device; each micro-batch is split across them, every
 * replica's loss is weighted by its share of the examples, the gradients are summed onto the first replica (whose
 * parameters the optimizer and the checkpoints use), and after the update its parameters are copied to the others.
 * The result is the update of one device with the whole batch, BatchNorm aside (each replica normalises its shard, as
 * PyTorch's DDP without SyncBatchNorm). Replicas run one after another: DJL allows one gradient collector at a time;
 * on CUDA the kernels are asynchronous, so devices still overlap.
 */
public final class DataParallelGradients implements GradientSource {
    private final List<Device> devices;
    private final List<PairList<String, Parameter>> parameters = new ArrayList<>();
    private final List<GradientAccumulator> replicas = new ArrayList<>();

    /**
     * @param master   the initialised model on {@code devices.get(0)}
     * @param newBlock builds an uninitialised copy of the same architecture
     */
    public DataParallelGradients(Block master, Supplier<Block> newBlock, List<Device> devices, List<NDManager> managers,
                                 ai.djl.ndarray.types.Shape inputShape) {
        this.devices = List.copyOf(devices);
        for (int i = 0; i < devices.size(); i++) {
            Block b = i == 0 ? master : newBlock.get();
            if (i > 0) b.initialize(managers.get(i), ai.djl.ndarray.types.DataType.FLOAT32, inputShape);
            parameters.add(b.getParameters());
            replicas.add(new GradientAccumulator(b, new ParameterStore(managers.get(i), false)));
        }
        afterUpdate(); // identical starting parameters everywhere
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        long n = x.getShape().get(0);
        int k = replicas.size();
        double loss = 0;
        long from = 0;
        for (int i = 0; i < k; i++) {
            long size = n / k + (i < n % k ? 1 : 0);
            if (size == 0) continue;
            NDIndex rows = new NDIndex("{}:{}", from, from + size);
            NDArray xs = x.get(rows).toDevice(devices.get(i), false);
            NDArray ys = y.get(rows).toDevice(devices.get(i), false);
            // Each replica computes a mean over its shard; weighting by the shard's share makes the sum the full mean.
            float share = (float) size / n;
            loss += replicas.get(i).forwardBackward(xs, ys, lossScale * share) * share;
            from += size;
        }
        return (float) loss;
    }

    @Override
    public List<TrainableParameter> gradients() {
        List<TrainableParameter> master = replicas.get(0).gradients();
        for (int i = 1; i < replicas.size(); i++) {
            List<TrainableParameter> other = replicas.get(i).gradients();
            for (int j = 0; j < master.size(); j++) {
                master.get(j).gradient().addi(other.get(j).gradient().toDevice(devices.get(0), false));
            }
        }
        return master;
    }

    @Override
    public void zeroGradients() {
        for (GradientAccumulator r : replicas) r.zeroGradients();
    }

    /** Broadcast: every parameter of the first replica (BatchNorm statistics included) into the others. */
    @Override
    public void afterUpdate() {
        PairList<String, Parameter> source = parameters.get(0);
        for (int i = 1; i < parameters.size(); i++) {
            PairList<String, Parameter> target = parameters.get(i);
            for (int j = 0; j < source.size(); j++) {
                Pair<String, Parameter> s = source.get(j);
                NativeCopy.into(target.get(j).getValue().getArray(), s.getValue().getArray());
            }
        }
    }

    public int replicas() {
        return replicas.size();
    }
}
