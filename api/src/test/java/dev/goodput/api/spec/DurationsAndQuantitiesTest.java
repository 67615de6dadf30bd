package dev.goodput.api.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationsAndQuantitiesTest {
    @Test
    void parsesKubernetesStyleDurations() {
        assertThat(Durations.parse("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parse("1.5m")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parse("250ms")).isEqualTo(Duration.ofMillis(250));
        assertThatThrownBy(() -> Durations.parse("5 minutes")).hasMessageContaining("not a duration");
    }

    @Test
    void parsesQuantities() {
        assertThat(Quantities.bytes("4Gi")).isEqualTo(4L << 30);
        assertThat(Quantities.bytes("512Mi")).isEqualTo(512L << 20);
        assertThat(Quantities.bytes("2G")).isEqualTo(2_000_000_000L);
        assertThat(Quantities.parse("500m").doubleValue()).isEqualTo(0.5);
        assertThatThrownBy(() -> Quantities.parse("4GB")).hasMessageContaining("not a quantity");
    }
}
