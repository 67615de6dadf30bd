package dev.goodput.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.DataPosition;
import dev.goodput.trainer.data.EpochOrder;
import dev.goodput.trainer.data.MicroBatches;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.optim.GradientClipper;
import dev.goodput.trainer.optim.LrSchedule;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.precision.LossScaler;
import java.util.List;

/**
 * One optimizer step: {@code accumulation} micro-batches, each forward and backward (fp16 inputs and a scaled loss
 * under mixed precision), then unscaling, the overflow check, clipping, the update and the gradients reset for the
 * next step, all in one NDScope so the step's temporaries are freed at once. The training loop runs it for every
 * step and the batch tuner's probes run it at the sizes they measure, so the memory a probe sees is the memory the run
 * will use.
 */
public final class TrainingStep {
    private final NDManager manager;
    private final GradientSource gradients;
    private final Optimizer optimizer;
    private final LossScaler scaler;
    private final Double clipNorm;
    private final int accumulation;
    private final LrSchedule schedule;
    private final long seed;
    private final StagingBuffers staging = new StagingBuffers();

    /** What one step did, for the loop's listeners; times in nanoseconds. */
    public record Result(long step, double loss, double lr, boolean applied, DataPosition next, long waitNanos,
                         long computeNanos, long optimizerNanos) {}

    /** @param scaler the fp16 loss scaler, or null in fp32 */
    public TrainingStep(NDManager manager, GradientSource gradients, Optimizer optimizer, LossScaler scaler, Double clipNorm,
                        int accumulation, LrSchedule schedule, long seed) {
        this.manager = manager;
        this.gradients = gradients;
        this.optimizer = optimizer;
        this.scaler = scaler;
        this.clipNorm = clipNorm;
        this.accumulation = accumulation;
        this.schedule = schedule;
        this.seed = seed;
    }

    /** Step {@code step}: it always completes, so a SIGTERM loses no work (the step in flight is finished). */
    public Result run(long step, MicroBatches batches, ExampleSet set) {
        long waitNanos = 0;
        long computeNanos = 0;
        double lossSum = 0;
        // Dropout draws from libtorch's global generator, which a checkpoint cannot capture through DJL; seeding it
        // from (seed, step) makes every step's randomness a function of the step, so a resumed run is identical.
        JniUtils.setSeed(EpochOrder.mix(seed, step));
        BatchPipeline.Loaded loaded = null;
        try (NDScope scope = new NDScope()) {
            for (int k = 0; k < accumulation; k++) {
                long w0 = System.nanoTime();
                loaded = batches.next();
                long c0 = System.nanoTime();
                waitNanos += c0 - w0;
                NDArray x = staging.features(manager, loaded.batch(), Evaluator.inputShape(set, loaded.batch()));
                if (scaler != null && !set.isText()) x = x.toType(DataType.FLOAT16, false);
                NDArray y = staging.labels(manager, loaded.batch());
                lossSum += gradients.forwardBackward(x, y, scaler == null ? 1f : (float) scaler.scale());
                computeNanos += System.nanoTime() - c0;
            }
            long o0 = System.nanoTime();
            List<TrainableParameter> params = gradients.gradients();
            // Each micro-batch loss is a mean, so the accumulated gradient is k means: scale by 1/k for the global mean.
            float scale = 1f / accumulation;
            boolean apply = true;
            if (scaler != null) {
                scale /= (float) scaler.scale();
                apply = scaler.update(LossScaler.overflowed(params));
            }
            if (apply && clipNorm != null) {
                scale *= GradientClipper.factor(GradientClipper.globalNorm(params, scale), clipNorm);
            }
            double lr = schedule.lr(step);
            if (apply) {
                optimizer.step(params, lr, scale);
                gradients.afterUpdate();
            }
            gradients.zeroGradients();
            return new Result(step, gradients.stepLoss(lossSum / accumulation), lr, apply, loaded.next(), waitNanos, computeNanos,
                    System.nanoTime() - o0);
        }
    }
}
