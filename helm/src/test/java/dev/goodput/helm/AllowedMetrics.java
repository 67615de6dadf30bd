package dev.goodput.helm;

import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names dashboards may query: the trainer's (TrainerMetrics) and the operator's
 * (dev.goodput.operator.metrics.OperatorMetrics, design.md §7).
 */
final class AllowedMetrics {
    static final Set<String> TRAINER = Set.of(
            "goodput_trainer_samples_total", "goodput_trainer_steps_total", "goodput_trainer_step_seconds",
            "goodput_trainer_loss", "goodput_trainer_metric", "goodput_trainer_batch_size",
            "goodput_trainer_checkpoint_seconds", "goodput_trainer_checkpoint_bytes", "goodput_trainer_checkpoint_step",
            "goodput_trainer_memory_bytes", "goodput_trainer_data_wait_ratio", "goodput_trainer_learning_rate");
    /** Exactly OperatorMetrics.NAMES (operator module); OperatorMetricsTest fails when the two differ. */
    static final Set<String> OPERATOR = Set.of(
            "goodput_trainingjob_info", "goodput_trainingjob_phase", "goodput_trainingjob_cost_dollars",
            "goodput_trainingjob_gpu_seconds", "goodput_trainingjob_preemptions", "goodput_trainingjob_failures",
            "goodput_trainingjob_time_to_target_seconds", "goodput_trainingjob_cost_to_target_dollars",
            "goodput_trainingjob_goodput_seconds", "goodput_trainingjob_badput_seconds",
            "goodput_trainingjob_badput_cost_dollars");
    /** Histograms: queried as name_bucket, name_sum and name_count. */
    static final Set<String> HISTOGRAMS = Set.of("goodput_trainer_step_seconds", "goodput_trainer_checkpoint_seconds");
    private static final Pattern HISTOGRAM_SERIES = Pattern.compile("(.+)_(bucket|sum|count)");

    private AllowedMetrics() {}

    static boolean allows(String name) {
        if (TRAINER.contains(name) || OPERATOR.contains(name)) {
            return true;
        }
        Matcher m = HISTOGRAM_SERIES.matcher(name);
        return m.matches() && HISTOGRAMS.contains(m.group(1));
    }
}
