package dev.goodput.trainer.optim;

/**
 * Learning rate by optimizer step: linear warmup to the peak, then constant, cosine, linear or one-cycle decay to
 * {@code peak * minRatio} at {@code totalSteps}. A pure function of the step, so resuming needs only the step.
 */
public record LrSchedule(String kind, double peak, long warmupSteps, long totalSteps, double minRatio) {

    public double lr(long step) {
        double min = peak * minRatio;
        if ("onecycle".equals(kind)) {
            // Smith's one-cycle: cosine up from peak/25 over the warmup share, cosine down to min after it.
            double start = peak / 25;
            if (step < warmupSteps) return cosine(start, peak, (double) step / Math.max(1, warmupSteps));
            return cosine(peak, min, progress(step));
        }
        if (step < warmupSteps) return peak * (step + 1) / warmupSteps;
        return switch (kind) {
            case "cosine" -> cosine(peak, min, progress(step));
            case "linear" -> peak - (peak - min) * progress(step);
            default -> peak;
        };
    }

    private double progress(long step) {
        if (totalSteps <= warmupSteps) return 1;
        return Math.min(1, (double) (step - warmupSteps) / (totalSteps - warmupSteps));
    }

    private static double cosine(double from, double to, double p) {
        return to + (from - to) * (1 + Math.cos(Math.PI * p)) / 2;
    }
}
