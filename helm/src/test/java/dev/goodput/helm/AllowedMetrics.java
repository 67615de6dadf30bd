package dev.goodput.helm;

import dev.goodput.api.metrics.MetricNames;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names dashboards may query: those the trainer and the operator export ({@link MetricNames}, which
 * MetricsEndpointTest and OperatorMetricsTest hold each component to), and OpenCost's per-node prices.
 */
final class AllowedMetrics {
    /** Histograms: queried as name_bucket, name_sum and name_count. */
    private static final Pattern HISTOGRAM_SERIES = Pattern.compile("(.+)_(bucket|sum|count)");

    private AllowedMetrics() {}

    static boolean allows(String name) {
        if (MetricNames.TRAINER.contains(name) || MetricNames.OPERATOR.contains(name) || MetricNames.OPENCOST.contains(name)) {
            return true;
        }
        Matcher m = HISTOGRAM_SERIES.matcher(name);
        return m.matches() && MetricNames.TRAINER_HISTOGRAMS.contains(m.group(1));
    }
}
