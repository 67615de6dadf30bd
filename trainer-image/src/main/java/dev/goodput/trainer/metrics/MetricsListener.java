package dev.goodput.trainer.metrics;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.loop.ProgressListener;
import dev.goodput.trainer.loop.TrainingStep;

/** Records the loop's events as Prometheus series (docs/metrics.md); the loop itself writes no metric. */
public final class MetricsListener implements ProgressListener {
    /** Reading the resident set and the device's memory costs a system call or a CUDA call: every 50 steps. */
    static final int MEMORY_EVERY_STEPS = 50;
    private final TrainerMetrics metrics;
    private final Device device;
    private int globalBatch;

    public MetricsListener(TrainerMetrics metrics, Device device) {
        this.metrics = metrics;
        this.device = device;
    }

    @Override
    public void onFitStart(TrainingPlan plan) {
        globalBatch = plan.globalBatch();
        metrics.batchSize.labelValues("micro").set(plan.microBatch());
        metrics.batchSize.labelValues("global").set(plan.globalBatch());
    }

    @Override
    public void onStepResult(TrainingStep.Result r) {
        metrics.stepSeconds.labelValues("data").observe(r.waitNanos() / 1e9);
        metrics.stepSeconds.labelValues("compute").observe(r.computeNanos() / 1e9);
        metrics.stepSeconds.labelValues("optimizer").observe(r.optimizerNanos() / 1e9);
        metrics.learningRate.set(r.lr());
        metrics.steps.inc();
        metrics.samples.inc(globalBatch);
        metrics.loss.set(r.loss());
        // r.step() is the step's index: the first step is 0, so the memory is read after steps 1, 51, 101, ...
        if (r.step() % MEMORY_EVERY_STEPS == 0) {
            metrics.memoryBytes.labelValues("host_rss").set(ProcessMemory.residentBytes());
            if (device.isGpu()) metrics.memoryBytes.labelValues("device").set(CudaUtils.getGpuMemory(device).getCommitted());
        }
    }

    @Override
    public void onStep(TrainerReport report) {
        if (report.progress != null && report.progress.dataWaitShare != null) {
            metrics.dataWaitShare.set(report.progress.dataWaitShare);
        }
    }

    @Override
    public void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds) {
        metrics.metric.labelValues("accuracy").set(accuracy);
        metrics.metric.labelValues("test_loss").set(loss);
    }

    @Override
    public void onMessage(String message) {}

    @Override
    public void onFinish(TrainerReport report) {}
}
