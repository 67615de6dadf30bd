package dev.goodput.api.metrics;

import java.util.List;

/**
 * Every Prometheus metric name Goodput exports, in one place because three parties must agree on them:
 * the trainer's /metrics, the operator's /q/metrics and the chart's dashboards. Each component's tests check that it
 * exports exactly its list, and the dashboards' test that every query uses only these (or {@link #OPENCOST}).
 */
public final class MetricNames {
    // The trainer, per pod (goodput_trainer_*). Counters carry _total; histograms are queried as _bucket/_sum/_count.
    public static final String SAMPLES = "goodput_trainer_samples_total";
    public static final String STEPS = "goodput_trainer_steps_total";
    public static final String STEP_SECONDS = "goodput_trainer_step_seconds";
    public static final String LOSS = "goodput_trainer_loss";
    public static final String METRIC = "goodput_trainer_metric";
    public static final String BATCH_SIZE = "goodput_trainer_batch_size";
    public static final String LEARNING_RATE = "goodput_trainer_learning_rate";
    public static final String CHECKPOINT_SECONDS = "goodput_trainer_checkpoint_seconds";
    public static final String CHECKPOINT_BYTES = "goodput_trainer_checkpoint_bytes";
    public static final String CHECKPOINT_STEP = "goodput_trainer_checkpoint_step";
    public static final String CHECKPOINT_FAILURES = "goodput_trainer_checkpoint_failures_total";
    public static final String MEMORY_BYTES = "goodput_trainer_memory_bytes";
    public static final String DATA_WAIT_RATIO = "goodput_trainer_data_wait_ratio";
    public static final String GPUS = "goodput_trainer_gpus";
    public static final String CPUS = "goodput_trainer_cpus";

    // The operator, per TrainingJob (goodput_trainingjob_*), all gauges mirroring status.
    public static final String JOB_INFO = "goodput_trainingjob_info";
    public static final String JOB_PHASE = "goodput_trainingjob_phase";
    public static final String JOB_COST = "goodput_trainingjob_cost_dollars";
    public static final String JOB_GPU_SECONDS = "goodput_trainingjob_gpu_seconds";
    public static final String JOB_PREEMPTIONS = "goodput_trainingjob_preemptions";
    public static final String JOB_FAILURES = "goodput_trainingjob_failures";
    public static final String JOB_TIME_TO_TARGET = "goodput_trainingjob_time_to_target_seconds";
    public static final String JOB_COST_TO_TARGET = "goodput_trainingjob_cost_to_target_dollars";
    public static final String JOB_GOODPUT_SECONDS = "goodput_trainingjob_goodput_seconds";
    public static final String JOB_BADPUT_SECONDS = "goodput_trainingjob_badput_seconds";
    public static final String JOB_BADPUT_COST = "goodput_trainingjob_badput_cost_dollars";

    /** Metric families (as a scrape names them: counters with _total, histograms by their base name). */
    public static final List<String> TRAINER = List.of(SAMPLES, STEPS, STEP_SECONDS, LOSS, METRIC, BATCH_SIZE,
            LEARNING_RATE, CHECKPOINT_SECONDS, CHECKPOINT_BYTES, CHECKPOINT_STEP, CHECKPOINT_FAILURES, MEMORY_BYTES, DATA_WAIT_RATIO, GPUS,
            CPUS);
    public static final List<String> TRAINER_HISTOGRAMS = List.of(STEP_SECONDS, CHECKPOINT_SECONDS);
    public static final List<String> OPERATOR = List.of(JOB_INFO, JOB_PHASE, JOB_COST, JOB_GPU_SECONDS,
            JOB_PREEMPTIONS, JOB_FAILURES, JOB_TIME_TO_TARGET, JOB_COST_TO_TARGET, JOB_GOODPUT_SECONDS,
            JOB_BADPUT_SECONDS, JOB_BADPUT_COST);

    /**
     * OpenCost's per-node prices (https://opencost.io/docs/integrations/metrics), which the fleet-cost dashboard uses
     * instead of the chart's price table when Prometheus has them: dollars per hour per GPU and per vCPU, labelled
     * {@code node}. Not exported by Goodput.
     */
    public static final String OPENCOST_GPU_HOURLY = "node_gpu_hourly_cost";
    public static final String OPENCOST_CPU_HOURLY = "node_cpu_hourly_cost";
    public static final List<String> OPENCOST = List.of(OPENCOST_GPU_HOURLY, OPENCOST_CPU_HOURLY);

    private MetricNames() {}
}
