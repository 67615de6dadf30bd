package dev.goodput.trainer.console;

/** Human-readable durations for the console: 45s, 3m07s, 1h02m. */
public final class Durations {
    private Durations() {}

    public static String human(double seconds) {
        long s = Math.round(seconds);
        if (s < 60) return s + "s";
        if (s < 3600) return String.format("%dm%02ds", s / 60, s % 60);
        return String.format("%dh%02dm", s / 3600, (s % 3600) / 60);
    }
}
