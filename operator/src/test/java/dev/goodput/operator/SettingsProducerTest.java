package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The scheduling settings as the chart passes them: JSON in environment variables, "none" to turn gpuType off. */
class SettingsProducerTest {
    static SettingsProducer producer(String label, String selector, String tolerations) {
        SettingsProducer p = new SettingsProducer();
        p.gpuTypeNodeLabel = label;
        p.spotNodeSelector = selector;
        p.spotTolerations = tolerations;
        return p;
    }

    @Test
    void readsTheChartsJson() {
        OperatorSettings.Scheduling s = producer("cloud.google.com/gke-accelerator", "{\"cloud.google.com/gke-spot\":\"true\"}",
                "[{\"key\":\"cloud.google.com/gke-spot\",\"operator\":\"Equal\",\"value\":\"true\",\"effect\":\"NoSchedule\"}]")
                .settings().scheduling();
        assertThat(s.gpuTypeNodeLabel()).isEqualTo("cloud.google.com/gke-accelerator");
        assertThat(s.spotNodeSelector()).containsExactlyEntriesOf(java.util.Map.of("cloud.google.com/gke-spot", "true"));
        assertThat(s.spotTolerations()).singleElement().satisfies(t -> assertThat(t.getEffect()).isEqualTo("NoSchedule"));
    }

    @Test
    void noneTurnsGpuTypePlacementOff() {
        assertThat(producer("none", "{}", "[]").settings().scheduling().gpuTypeNodeLabel()).isNull();
    }

    @Test
    void badJsonStopsTheOperatorWithTheSettingsName() {
        assertThatThrownBy(() -> producer("x", "{not json", "[]").settings())
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("goodput.scheduling.spot");
    }
}
