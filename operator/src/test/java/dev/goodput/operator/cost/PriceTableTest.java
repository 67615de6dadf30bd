package dev.goodput.operator.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.goodput.api.spec.CostSpec;
import dev.goodput.api.spec.ResourcesSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PriceTableTest {
    /** What helm/goodput/templates/pricing-configmap.yaml renders for the chart's default values. */
    static final String RENDERED = """
            gpu:
              nvidia-a100-80gb:
                onDemand: 4.1
                spot: 1.6
              nvidia-h100-80gb:
                onDemand: 6.88
                spot: 2.5
              nvidia-t4-16gb:
                onDemand: 0.53
            cpuCoreHour:
              onDemand: 0.0316
              spot: 0.0095
            memoryGiBHour:
              onDemand: 0.0042
              spot: 0.0013
            """;

    static ResourcesSpec res(int gpus, String type, Boolean spot, String cpu, String memory) {
        ResourcesSpec r = new ResourcesSpec();
        r.gpus = gpus;
        r.gpuType = type;
        r.spot = spot;
        r.cpu = cpu;
        r.memory = memory;
        return r;
    }

    static CostSpec override(double perHour) {
        CostSpec c = new CostSpec();
        c.pricePerHour = perHour;
        return c;
    }

    final PriceTable table = PriceTable.parse(RENDERED, "pricing.yaml");

    @Test
    void gpuJobsPayPerGpuByCapacity() {
        PriceQuote onDemand = table.quote(res(2, "nvidia-h100-80gb", null, "8", "64Gi"), null);
        assertThat(onDemand.pricePerHour()).isCloseTo(13.76, within(1e-9));
        assertThat(onDemand.capacity()).isEqualTo("on-demand");
        assertThat(onDemand.source()).isEqualTo("pricing.gpu.nvidia-h100-80gb.onDemand x 2");
        assertThat(onDemand.reason()).isNull();

        PriceQuote spot = table.quote(res(8, "nvidia-h100-80gb", true, null, null), null);
        assertThat(spot.pricePerHour()).isCloseTo(20.0, within(1e-9));
        assertThat(spot.capacity()).isEqualTo("spot");
    }

    @Test
    void aPriceWithoutSpotAppliesToSpotToo() {
        PriceQuote q = table.quote(res(1, "nvidia-t4-16gb", true, null, null), null);
        assertThat(q.pricePerHour()).isEqualTo(0.53);
        assertThat(q.capacity()).isEqualTo("spot");
        assertThat(q.source()).isEqualTo("pricing.gpu.nvidia-t4-16gb.onDemand x 1");
    }

    @Test
    void cpuOnlyJobsPayForCoresAndMemory() {
        // 2 cores × 0.0316 + 4 GiB × 0.0042 = 0.0632 + 0.0168 = 0.08 $/h (examples/fashion-mnist.yaml)
        PriceQuote q = table.quote(res(0, null, null, "2", "4Gi"), null);
        assertThat(q.pricePerHour()).isCloseTo(0.08, within(1e-12));
        assertThat(q.source()).isEqualTo("pricing.cpuCoreHour.onDemand x 2 + pricing.memoryGiBHour.onDemand x 4");
        // 500m on spot, 512Mi: 0.5 × 0.0095 + 0.5 × 0.0013 = 0.0054
        assertThat(table.quote(res(0, null, true, "500m", "512Mi"), null).pricePerHour()).isCloseTo(0.0054, within(1e-12));
        PriceQuote none = table.quote(res(0, null, null, null, null), null);
        assertThat(none.priced()).isFalse();
        assertThat(none.reason()).isEqualTo(PriceQuote.NO_CPU_OR_MEMORY);
    }

    @Test
    void theSpecOverrideWins() {
        PriceQuote q = table.quote(res(4, "some-unknown-gpu", true, null, null), override(3.25));
        assertThat(q.pricePerHour()).isEqualTo(3.25);
        assertThat(q.source()).isEqualTo("spec.cost.pricePerHour");
        assertThat(q.capacity()).isEqualTo("spot");
        assertThat(PriceTable.empty().quote(res(0, null, null, null, null), override(0.5)).pricePerHour()).isEqualTo(0.5);
    }

    @Test
    void anUnknownGpuTypeHasAClearReason() {
        PriceQuote q = table.quote(res(1, "nvidia-b200", null, null, null), null);
        assertThat(q.priced()).isFalse();
        assertThat(q.pricePerHour()).isNull();
        assertThat(q.reason()).isEqualTo(PriceQuote.UNKNOWN_GPU_TYPE);
        assertThat(q.message()).contains("'nvidia-b200'", "nvidia-h100-80gb", "spec.cost.pricePerHour", "pricing.gpu");

        PriceQuote missing = table.quote(res(1, null, null, null, null), null);
        assertThat(missing.reason()).isEqualTo(PriceQuote.GPU_TYPE_MISSING);
        assertThat(missing.message()).contains("spec.resources.gpuType");

        PriceQuote noTable = PriceTable.empty().quote(res(1, "nvidia-h100-80gb", null, null, null), null);
        assertThat(noTable.reason()).isEqualTo(PriceQuote.NO_PRICE_TABLE);
        assertThat(noTable.message()).contains(PriceTable.ENV);
    }

    @Test
    void pricesAreDollarsAndAnotherCurrencyIsRefused() {
        assertThat(PriceTable.parse("currency: USD\ngpu: {nvidia-h100-80gb: {onDemand: 6.88}}\n", "usd.yaml")
                .gpuPrices()).containsKey("nvidia-h100-80gb");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> PriceTable.parse(
                "currency: EUR\ngpu: {nvidia-h100-80gb: {onDemand: 6.0}}\n", "eur.yaml"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("eur.yaml: currency EUR is not supported: prices are US dollars (metrics *_dollars,"
                        + " dashboards in USD); remove currency and give dollar prices");
    }

    @Test
    void theChartDefaultsParse() throws Exception {
        // The pricing block of helm/goodput/values.yaml has the shape the ConfigMap renders.
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode values = yaml.readTree(Path.of("..", "helm", "goodput", "values.yaml").toFile());
        PriceTable chart = PriceTable.parse(yaml.writeValueAsString(values.get("pricing")), "values.yaml");
        assertThat(chart.gpuPrices()).containsKey("nvidia-h100-80gb").hasSizeGreaterThanOrEqualTo(5);
        chart.gpuPrices().forEach((type, p) -> assertThat(p.spot()).as(type).isNotNull().isLessThan(p.onDemand()));
        assertThat(chart.quote(res(4, "nvidia-h100-80gb", true, null, null), null).pricePerHour()).isCloseTo(10.0,
                within(1e-9));
        assertThat(chart.cpuCoreHour()).isNotNull();
        assertThat(chart.memoryGiBHour()).isNotNull();
    }

    @Test
    void loadsTheFileNamedByTheEnvironment(@TempDir Path dir) throws Exception {
        Path f = Files.writeString(dir.resolve("pricing.yaml"), RENDERED);
        PriceTable t = PriceTable.fromEnvironment(Map.of(PriceTable.ENV, f.toString()));
        TrainingJobSpec spec = new TrainingJobSpec();
        spec.resources = res(1, "nvidia-a100-80gb", true, null, null);
        assertThat(t.quote(spec).pricePerHour()).isEqualTo(1.6);
        assertThat(PriceTable.fromEnvironment(Map.of()).isEmpty()).isTrue();
        assertThatThrownBy(() -> PriceTable.fromEnvironment(Map.of(PriceTable.ENV, dir.resolve("nope.yaml").toString())))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("nope.yaml");
    }

    @Test
    void badTablesAreRefusedWithTheEntryNamed() {
        assertThatThrownBy(() -> PriceTable.parse("gpu:\n  x: {onDemand: -1}\n", "p.yaml"))
                .hasMessageContaining("p.yaml").hasMessageContaining("gpu.x.onDemand");
        assertThatThrownBy(() -> PriceTable.parse("gpu:\n  x: {spot: 1}\n", "p.yaml"))
                .hasMessageContaining("gpu.x.onDemand is missing");
        assertThatThrownBy(() -> PriceTable.parse("cpuCoreHour: {onDemand: cheap}\n", "p.yaml"))
                .hasMessageContaining("cpuCoreHour.onDemand is not a number");
        // Decimals given as strings (helm --set) are read as numbers.
        assertThat(PriceTable.parse("gpu:\n  x: {onDemand: \"5.2\"}\n", "p.yaml").gpuPrices().get("x").onDemand())
                .isEqualTo(5.2);
    }
}
