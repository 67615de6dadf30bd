package dev.goodput.trainer.run;

import dev.goodput.api.spec.DataSpec;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.device.DeviceSelection;
import dev.goodput.trainer.optim.OptimizerSettings;
import java.time.Duration;
import java.util.List;

/**
 * Everything about a run that does not depend on the batch, resolved once by {@link RunPlanner} from the manifest and
 * the machine: no component reads a raw spec field or applies a default of its own.
 *
 * @param grace            time from SIGTERM to SIGKILL
 * @param threads          libtorch's intra-op threads
 * @param cpus             the CPUs the container may use (billing, defaults)
 * @param precision        fp32 or fp16 (mixed), after {@code auto} and the devices are taken into account
 * @param batchSize        spec.training.batchSize: {@code auto} or a fixed micro-batch
 * @param globalBatch      spec.training.globalBatchSize
 * @param batchMargin      the tuner's safety margin below the largest micro-batch that fit
 * @param initialLossScale fp16's first loss scale
 * @param loaderWorkers    threads that build training batches (0: on the training thread)
 * @param prefetch         batches the loader keeps ready
 * @param evalBatchCap     the evaluator's largest batch
 * @param metricName       the target's metric, which progress.metric and bestMetric both measure
 * @param recompute        gradient checkpointing: recompute each encoder layer in backward instead of keeping it
 * @param emaDecay         the decay of the weights' moving average that evaluation and export read; null: none
 * @param notes            what the planner changed from what was asked, for the console
 * @param shard            this process's share of every global batch (several processes train one model)
 */
public record RunPlan(
        ModelSpec model,
        DataSpec data,
        Duration grace,
        long seed,
        int threads,
        int cpus,
        DeviceSelection devices,
        String precision,
        OptimizerSettings optimizer,
        MemoryBudget budget,
        String batchSize,
        int globalBatch,
        double batchMargin,
        double initialLossScale,
        int checkpointKeep,
        int loaderWorkers,
        int prefetch,
        int evalBatchCap,
        String metricName,
        boolean recompute,
        Double emaDecay,
        List<String> notes,
        dev.goodput.trainer.data.DataShard shard) {

    public boolean fp16() {
        return "fp16".equals(precision);
    }

    /** The examples this process trains per step: the global batch divided among the processes. */
    public int rankBatch() {
        return globalBatch / shard.ranks();
    }

    public boolean autoBatch() {
        return "auto".equals(batchSize);
    }
}
