package dev.goodput.trainer.distributed;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.ArrayList;
import java.util.List;

/**
 * Data parallelism across processes, as PyTorch's DDP: each process runs forward and backward on its share of the
 * global batch through the gradient source it would use alone, then the gradients are averaged over the processes
 * with c10d (in buckets, once per optimizer step, not on accumulation micro-batches) so every process applies the same
 * update to the same parameters. Because every process then holds the same gradients, the loss scaler's overflow check
 * and clipping's norm decide identically everywhere. The step's loss rides in the last bucket, so every process
 * reports the mean loss over the whole batch at no extra collective. BatchNorm's running statistics, which forward
 * changes on each process from its own share, are broadcast from rank 0 after each step (DDP's
 * {@code broadcast_buffers}), so evaluation sees the same model on every process.
 */
public final class DistributedGradients implements GradientSource {
    private final GradientSource local;
    private final ProcessGroup group;
    private final List<NDArray> runningStatistics = new ArrayList<>();
    private double lossSum;
    private int microBatches;
    private double stepLoss = Double.NaN;

    /**
     * @param parameters the model's parameters, to find BatchNorm's running statistics; the caller has already
     *                   broadcast the initial values ({@link #broadcastFromLeader})
     */
    public DistributedGradients(GradientSource local, ProcessGroup group, PairList<String, Parameter> parameters) {
        this.local = local;
        this.group = group;
        for (Pair<String, Parameter> p : parameters) {
            Parameter.Type t = p.getValue().getType();
            if (t == Parameter.Type.RUNNING_MEAN || t == Parameter.Type.RUNNING_VAR) runningStatistics.add(p.getValue().getArray());
        }
    }

    /** Rank 0's values of {@code parameters} everywhere: the same starting point, or the same restored checkpoint. */
    public static void broadcastFromLeader(ProcessGroup group, PairList<String, Parameter> parameters) {
        List<NDArray> arrays = new ArrayList<>();
        for (Pair<String, Parameter> p : parameters) arrays.add(p.getValue().getArray());
        group.broadcast(arrays, 0);
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        float loss = local.forwardBackward(x, y, lossScale);
        lossSum += loss;
        microBatches++;
        return loss;
    }

    @Override
    public List<TrainableParameter> gradients() {
        List<TrainableParameter> params = local.gradients();
        List<NDArray> reduced = new ArrayList<>(params.size() + 1);
        for (TrainableParameter p : params) reduced.add(p.gradient());
        // This process's mean loss over its share; the mean over processes is the loss of the whole batch.
        NDArray loss = params.get(0).gradient().getManager().create(new float[] {(float) (lossSum / Math.max(1, microBatches))});
        reduced.add(loss);
        group.allReduceMean(reduced);
        stepLoss = loss.getFloat();
        loss.close();
        lossSum = 0;
        microBatches = 0;
        if (!runningStatistics.isEmpty()) group.broadcast(runningStatistics, 0);
        return params;
    }

    /** The mean loss of the last step over every process's share. */
    @Override
    public double stepLoss(double localMean) {
        return Double.isNaN(stepLoss) ? localMean : stepLoss;
    }

    @Override
    public void zeroGradients() {
        local.zeroGradients();
    }

    @Override
    public void afterUpdate() {
        local.afterUpdate();
    }
}
