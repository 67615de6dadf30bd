package dev.goodput.operator.cost;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.goodput.api.spec.CostSpec;
import dev.goodput.api.spec.Quantities;
import dev.goodput.api.spec.ResourcesSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The price table the Helm chart renders (values {@code pricing} → ConfigMap {@code <release>-goodput-pricing}, key
 * {@code pricing.yaml}, mounted at the file named by {@value #ENV}):
 *
 * <pre>
 * gpu:                        # dollars per GPU-hour, by spec.resources.gpuType
 *   nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}
 * cpuCoreHour: {onDemand: 0.0316, spot: 0.0095}     # CPU-only jobs
 * memoryGiBHour: {onDemand: 0.0042, spot: 0.0013}
 * </pre>
 *
 * A price without {@code spot} applies to spot capacity too. A GPU pod costs gpus × the GPU-hour price (GPU prices
 * include the host); a CPU-only pod costs cores × cpuCoreHour + GiB × memoryGiBHour of what it requests.
 * {@code spec.cost.pricePerHour} overrides the table for a job. Immutable; the chart rolls the operator when prices
 * change, so the table is read once at start.
 */
public final class PriceTable {
    /** Environment variable naming the pricing file. */
    public static final String ENV = "GOODPUT_PRICING_FILE";
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final BigDecimal GIB = BigDecimal.valueOf(1L << 30);

    /** Dollars per hour of one unit, on demand and on spot (spot null = the on-demand price). */
    public record Price(double onDemand, Double spot) {
        public double forCapacity(String capacity) {
            return PriceQuote.SPOT.equals(capacity) && spot != null ? spot : onDemand;
        }

        String field(String capacity) {
            return PriceQuote.SPOT.equals(capacity) && spot != null ? "spot" : "onDemand";
        }
    }

    private final Map<String, Price> gpu;
    private final Price cpuCoreHour;
    private final Price memoryGiBHour;
    private final String origin;

    private PriceTable(Map<String, Price> gpu, Price cpuCoreHour, Price memoryGiBHour, String origin) {
        this.gpu = Collections.unmodifiableMap(gpu);
        this.cpuCoreHour = cpuCoreHour;
        this.memoryGiBHour = memoryGiBHour;
        this.origin = origin;
    }

    /** No table: only jobs with spec.cost.pricePerHour are priced. */
    public static PriceTable empty() {
        return new PriceTable(new TreeMap<>(), null, null, null);
    }

    /**
     * The table named by {@value #ENV} in {@code env}; {@link #empty()} when the variable is unset or blank.
     *
     * @throws IllegalStateException when the variable names a file that is missing or not a valid table
     */
    public static PriceTable fromEnvironment(Map<String, String> env) {
        String file = env.get(ENV);
        if (file == null || file.isBlank()) {
            return empty();
        }
        try {
            return load(Path.of(file));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException(ENV + "=" + file + ": " + e.getMessage(), e);
        }
    }

    /** Reads a pricing file. @throws IllegalArgumentException naming the file and the bad entry */
    public static PriceTable load(Path file) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read the price table " + file + ": " + e, e);
        }
        return parse(text, file.toString());
    }

    /** Parses pricing YAML; {@code origin} names it in errors. @throws IllegalArgumentException on a bad entry */
    public static PriceTable parse(String yaml, String origin) {
        JsonNode root;
        try {
            root = YAML.readTree(yaml);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(origin + ": not YAML: " + e.getOriginalMessage(), e);
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            throw new IllegalArgumentException(origin + ": empty price table");
        }
        if (!root.isObject()) {
            throw new IllegalArgumentException(origin + ": the price table must be a mapping");
        }
        // Dollars only: the metrics are *_dollars and the dashboards show USD. A table in another currency would be
        // summed and shown as dollars, so it is refused rather than read.
        String currency = root.path("currency").asText("USD");
        if (!"USD".equals(currency)) {
            throw new IllegalArgumentException(origin + ": currency " + currency + " is not supported: prices are US"
                    + " dollars (metrics *_dollars, dashboards in USD); remove currency and give dollar prices");
        }
        Map<String, Price> gpu = new TreeMap<>();
        JsonNode g = root.path("gpu");
        if (!g.isMissingNode() && !g.isNull()) {
            if (!g.isObject()) {
                throw new IllegalArgumentException(origin + ": gpu must map GPU types to prices");
            }
            for (Iterator<Map.Entry<String, JsonNode>> it = g.fields(); it.hasNext();) {
                Map.Entry<String, JsonNode> e = it.next();
                gpu.put(e.getKey(), price(e.getValue(), origin, "gpu." + e.getKey()));
            }
        }
        Price cpu = optionalPrice(root.path("cpuCoreHour"), origin, "cpuCoreHour");
        Price memory = optionalPrice(root.path("memoryGiBHour"), origin, "memoryGiBHour");
        return new PriceTable(gpu, cpu, memory, origin);
    }

    private static Price optionalPrice(JsonNode n, String origin, String path) {
        return n.isMissingNode() || n.isNull() ? null : price(n, origin, path);
    }

    private static Price price(JsonNode n, String origin, String path) {
        if (!n.isObject()) {
            throw new IllegalArgumentException(origin + ": " + path + " must be {onDemand: <dollars>, spot: <dollars>}");
        }
        double onDemand = dollars(n.path("onDemand"), origin, path + ".onDemand", true);
        JsonNode s = n.path("spot");
        Double spot = s.isMissingNode() || s.isNull() ? null : dollars(s, origin, path + ".spot", false);
        return new Price(onDemand, spot);
    }

    private static double dollars(JsonNode n, String origin, String path, boolean required) {
        if (n.isMissingNode() || n.isNull()) {
            throw new IllegalArgumentException(origin + ": " + path + " is missing");
        }
        double v;
        if (n.isNumber()) {
            v = n.asDouble();
        } else if (n.isTextual()) {
            try {
                v = Double.parseDouble(n.asText().trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(origin + ": " + path + " is not a number: '" + n.asText() + "'");
            }
        } else {
            throw new IllegalArgumentException(origin + ": " + path + " is not a number: " + n);
        }
        if (!Double.isFinite(v) || v < 0) {
            throw new IllegalArgumentException(origin + ": " + path + " must be a non-negative number of dollars, not " + v);
        }
        return v;
    }

    /** GPU type → price, sorted by type. */
    public Map<String, Price> gpuPrices() {
        return gpu;
    }

    public Price cpuCoreHour() {
        return cpuCoreHour;
    }

    public Price memoryGiBHour() {
        return memoryGiBHour;
    }

    public boolean isEmpty() {
        return origin == null;
    }

    public static String capacity(ResourcesSpec resources) {
        return resources != null && Boolean.TRUE.equals(resources.spot) ? PriceQuote.SPOT : PriceQuote.ON_DEMAND;
    }

    /** The hourly price of the job's pod. */
    public PriceQuote quote(TrainingJobSpec spec) {
        return quote(spec == null ? null : spec.resources, spec == null ? null : spec.cost);
    }

    /** The hourly price of a pod with these resources; {@code cost.pricePerHour} wins when set. */
    public PriceQuote quote(ResourcesSpec resources, CostSpec cost) {
        String capacity = capacity(resources);
        if (cost != null && cost.pricePerHour != null) {
            return PriceQuote.priced(cost.pricePerHour, capacity, "spec.cost.pricePerHour");
        }
        int gpus = resources == null || resources.gpus == null ? 0 : resources.gpus;
        if (gpus > 0) {
            String type = resources.gpuType;
            if (type == null || type.isBlank()) {
                return PriceQuote.unpriced(capacity, PriceQuote.GPU_TYPE_MISSING, "spec.resources.gpuType is not set, so "
                        + "the " + gpus + "-GPU pod has no price; set it to one of " + known()
                        + " or set spec.cost.pricePerHour");
            }
            if (isEmpty()) {
                return noTable(capacity);
            }
            Price p = gpu.get(type);
            if (p == null) {
                p = gpu.get(type.toLowerCase(Locale.ROOT));
            }
            if (p == null) {
                return PriceQuote.unpriced(capacity, PriceQuote.UNKNOWN_GPU_TYPE, "GPU type '" + type + "' has no price "
                        + "in the price table (known: " + known() + "); add it to the chart's pricing.gpu or set "
                        + "spec.cost.pricePerHour");
            }
            return PriceQuote.priced(p.forCapacity(capacity) * gpus, capacity,
                    "pricing.gpu." + type + "." + p.field(capacity) + " x " + gpus);
        }
        String cpu = resources == null ? null : resources.cpu;
        String memory = resources == null ? null : resources.memory;
        if (cpu == null && memory == null) {
            return PriceQuote.unpriced(capacity, PriceQuote.NO_CPU_OR_MEMORY, "a CPU-only job is priced by what it "
                    + "requests; set spec.resources.cpu and memory, or spec.cost.pricePerHour");
        }
        if (isEmpty()) {
            return noTable(capacity);
        }
        double total = 0;
        StringBuilder source = new StringBuilder();
        if (cpu != null) {
            if (cpuCoreHour == null) {
                return PriceQuote.unpriced(capacity, PriceQuote.NO_PRICE_TABLE, "the price table has no cpuCoreHour "
                        + "price; add it to the chart's pricing or set spec.cost.pricePerHour");
            }
            BigDecimal cores = Quantities.parse(cpu);
            total += cores.doubleValue() * cpuCoreHour.forCapacity(capacity);
            source.append("pricing.cpuCoreHour.").append(cpuCoreHour.field(capacity)).append(" x ")
                    .append(cores.stripTrailingZeros().toPlainString());
        }
        if (memory != null) {
            if (memoryGiBHour == null) {
                return PriceQuote.unpriced(capacity, PriceQuote.NO_PRICE_TABLE, "the price table has no memoryGiBHour "
                        + "price; add it to the chart's pricing or set spec.cost.pricePerHour");
            }
            BigDecimal gib = Quantities.parse(memory).divide(GIB, MathContext.DECIMAL64);
            total += gib.doubleValue() * memoryGiBHour.forCapacity(capacity);
            source.append(source.isEmpty() ? "" : " + ").append("pricing.memoryGiBHour.")
                    .append(memoryGiBHour.field(capacity)).append(" x ").append(gib.stripTrailingZeros().toPlainString());
        }
        return PriceQuote.priced(total, capacity, source.toString());
    }

    private PriceQuote noTable(String capacity) {
        return PriceQuote.unpriced(capacity, PriceQuote.NO_PRICE_TABLE, "the operator has no price table (" + ENV
                + " is not set); install it with the Helm chart or set spec.cost.pricePerHour");
    }

    private String known() {
        return gpu.isEmpty() ? "none" : String.join(", ", gpu.keySet());
    }

    @Override
    public String toString() {
        return "PriceTable[" + (origin == null ? "empty" : origin) + ", " + gpu.size() + " GPU types]";
    }
}
