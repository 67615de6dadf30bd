package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The metric-name extraction the dashboard test relies on. */
class PromQlTest {
    @Test
    void findsMetricsAndIgnoresFunctionsLabelsKeywordsAndNumbers() {
        assertThat(PromQl.metricNames("sum by (namespace, job) (rate(foo_total{job=\"a\", x=~\"$v|b\"}[$__rate_interval]))"
                + " / ignoring(phase) group_left sum(bar_seconds_sum offset 5m) * 1e6 > bool 0.5 or vector(0)"))
                .containsExactly("foo_total", "bar_seconds_sum");
        assertThat(PromQl.metricNames("histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m])))")).containsExactly("x_bucket");
        assertThat(PromQl.metricNames("a * on(namespace, job) group_left(gpu_type) b and c unless d"))
                .containsExactly("a", "b", "c", "d");
        assertThat(PromQl.metricNames("sum(x) by (y)")).containsExactly("x");
        assertThat(PromQl.templateQueryMetrics("label_values(goodput_trainingjob_info{namespace=\"$namespace\"}, job)"))
                .containsExactly("goodput_trainingjob_info");
    }

    @Test
    void histogramSeriesAreAllowedOnlyForHistograms() {
        assertThat(AllowedMetrics.allows("goodput_trainer_step_seconds_bucket")).isTrue();
        assertThat(AllowedMetrics.allows("goodput_trainer_checkpoint_seconds_count")).isTrue();
        assertThat(AllowedMetrics.allows("goodput_trainer_loss_sum")).isFalse();
        assertThat(AllowedMetrics.allows("goodput_trainer_loss")).isTrue();
        assertThat(AllowedMetrics.allows("goodput_trainer_nonexistent")).isFalse();
        // OpenCost's per-node prices are allowed; its other series are not used by the dashboards.
        assertThat(AllowedMetrics.allows("node_gpu_hourly_cost")).isTrue();
        assertThat(AllowedMetrics.allows("node_ram_hourly_cost")).isFalse();
    }
}
