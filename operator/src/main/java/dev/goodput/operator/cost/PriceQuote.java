package dev.goodput.operator.cost;

/**
 * The hourly price of one job's pod, or why there is none.
 *
 * @param pricePerHour dollars per hour of the whole pod; null when the job cannot be priced
 * @param capacity     {@code spot} or {@code on-demand}
 * @param source       where the price came from, for people: {@code spec.cost.pricePerHour},
 *                     {@code pricing.gpu.nvidia-h100-80gb.spot x 4}, {@code pricing.cpuCoreHour.onDemand x 2 + ...}
 * @param reason       null when priced; else a condition reason: {@value #UNKNOWN_GPU_TYPE}, {@value #GPU_TYPE_MISSING},
 *                     {@value #NO_PRICE_TABLE}, {@value #NO_CPU_OR_MEMORY}
 * @param message      null when priced; else what is wrong and how to fix it
 */
public record PriceQuote(Double pricePerHour, String capacity, String source, String reason, String message) {
    public static final String SPOT = "spot";
    public static final String ON_DEMAND = "on-demand";

    public static final String UNKNOWN_GPU_TYPE = "UnknownGpuType";
    public static final String GPU_TYPE_MISSING = "GpuTypeMissing";
    public static final String NO_PRICE_TABLE = "NoPriceTable";
    public static final String NO_CPU_OR_MEMORY = "NoCpuOrMemoryRequested";

    static PriceQuote priced(double pricePerHour, String capacity, String source) {
        return new PriceQuote(pricePerHour, capacity, source, null, null);
    }

    static PriceQuote unpriced(String capacity, String reason, String message) {
        return new PriceQuote(null, capacity, null, reason, message);
    }

    /** The price of {@code pods} such pods together (a gang of workers): the hourly price times their number. */
    public PriceQuote times(int pods) {
        return pods == 1 || !priced() ? this
                : new PriceQuote(pricePerHour * pods, capacity, source + " x " + pods + " workers", reason, message);
    }

    public boolean priced() {
        return pricePerHour != null;
    }
}
