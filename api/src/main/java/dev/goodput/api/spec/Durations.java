package dev.goodput.api.spec;

import java.time.Duration;
import java.util.regex.Matcher;

/** Kubernetes-style durations such as 90s, 5m, 1h30m, as used by maxDuration and checkpoint.interval. */
public final class Durations {
    public static final String PATTERN = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";
    private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("([0-9]+(?:\\.[0-9]+)?)(ms|s|m|h)");

    private Durations() {}

    public static Duration parse(String text) {
        if (text == null || !text.matches(PATTERN)) {
            throw new IllegalArgumentException("'" + text + "' is not a duration such as 90s, 5m or 1h30m");
        }
        Matcher m = PART.matcher(text);
        double millis = 0;
        while (m.find()) {
            double v = Double.parseDouble(m.group(1));
            millis += switch (m.group(2)) {
                case "ms" -> v;
                case "s" -> v * 1_000;
                case "m" -> v * 60_000;
                default -> v * 3_600_000;
            };
        }
        return Duration.ofMillis(Math.round(millis));
    }
}
