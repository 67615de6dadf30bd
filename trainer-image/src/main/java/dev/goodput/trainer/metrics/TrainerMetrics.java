package dev.goodput.trainer.metrics;

import dev.goodput.api.metrics.MetricNames;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

/**
 * The trainer's Prometheus metrics: counters for samples and steps (samples/s is a rate()), the step
 * time split by phase, checkpoint durations and sizes, batch sizes, loss and metric. Base units throughout.
 */
public final class TrainerMetrics {
    private final PrometheusRegistry registry = new PrometheusRegistry();

    public final Counter samples = Counter.builder().name(MetricNames.SAMPLES)
            .help("Training examples processed").register(registry);
    public final Counter steps = Counter.builder().name(MetricNames.STEPS)
            .help("Optimizer steps taken").register(registry);
    public final Histogram stepSeconds = Histogram.builder().name(MetricNames.STEP_SECONDS)
            .help("Time per optimizer step by phase: data (waiting for the input pipeline), compute (forward and"
                    + " backward), optimizer (update and zeroing)")
            .labelNames("phase")
            .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .register(registry);
    public final Gauge loss = Gauge.builder().name(MetricNames.LOSS)
            .help("Training loss of the last step").register(registry);
    public final Gauge metric = Gauge.builder().name(MetricNames.METRIC)
            .help("Last evaluated metric on the test split").labelNames("name").register(registry);
    public final Gauge batchSize = Gauge.builder().name(MetricNames.BATCH_SIZE)
            .help("Batch size in examples: micro (one pass) and global (one optimizer step)").labelNames("kind")
            .register(registry);
    public final Gauge learningRate = Gauge.builder().name(MetricNames.LEARNING_RATE)
            .help("Learning rate of the last step").register(registry);
    public final Histogram checkpointSeconds = Histogram.builder().name(MetricNames.CHECKPOINT_SECONDS)
            .help("Time to take a checkpoint by phase: snapshot (training blocked) and persist (background or on SIGTERM)")
            .labelNames("phase")
            .classicUpperBounds(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
            .register(registry);
    public final Gauge checkpointBytes = Gauge.builder().name(MetricNames.CHECKPOINT_BYTES)
            .help("Size of the last checkpoint").register(registry);
    public final Gauge lastCheckpointStep = Gauge.builder().name(MetricNames.CHECKPOINT_STEP)
            .help("Step of the last durable checkpoint").register(registry);
    public final Counter checkpointFailures = Counter.builder().name(MetricNames.CHECKPOINT_FAILURES)
            .help("Checkpoint saves that did not become durable (disk full, permissions, I/O errors)").register(registry);
    public final Gauge memoryBytes = Gauge.builder().name(MetricNames.MEMORY_BYTES)
            .help("Memory in use: host_rss (the process, native included) or device (accelerator)")
            .labelNames("kind").register(registry);
    public final Gauge dataWaitShare = Gauge.builder().name(MetricNames.DATA_WAIT_RATIO)
            .help("Share of step time spent waiting for data over the last steps; above 0.1 the job is input-bound")
            .register(registry);
    // What the pod holds, so that per-node prices (OpenCost's node_gpu_hourly_cost) can price a job by its node.
    public final Gauge gpus = Gauge.builder().name(MetricNames.GPUS)
            .help("GPUs the pod holds (spec.resources.gpus, else the devices the trainer trains on); 0 for a CPU job").register(registry);
    public final Gauge cpus = Gauge.builder().name(MetricNames.CPUS)
            .help("CPUs this trainer may use (the container's CPU limit, or the machine's)").register(registry);

    public TrainerMetrics() {
        // Export every series from the start, so dashboards and alerts see zeros rather than gaps.
        for (String phase : new String[] {"data", "compute", "optimizer"}) stepSeconds.initLabelValues(phase);
        for (String phase : new String[] {"snapshot", "persist"}) checkpointSeconds.initLabelValues(phase);
    }

    public PrometheusRegistry registry() {
        return registry;
    }
}
