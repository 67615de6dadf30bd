package dev.goodput.api.spec;

import java.math.BigDecimal;

/** Kubernetes resource quantities (4Gi, 512Mi, 2, 500m) as plain numbers. */
public final class Quantities {
    public static final String PATTERN = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$";

    private Quantities() {}

    public static BigDecimal parse(String text) {
        if (text == null || !text.matches(PATTERN)) {
            throw new IllegalArgumentException("'" + text + "' is not a quantity such as 4Gi, 512Mi or 500m");
        }
        String number = text.replaceAll("[A-Za-z]+$", "");
        String suffix = text.substring(number.length());
        BigDecimal factor = switch (suffix) {
            case "" -> BigDecimal.ONE;
            case "m" -> new BigDecimal("0.001");
            case "k" -> BigDecimal.valueOf(1_000L);
            case "M" -> BigDecimal.valueOf(1_000_000L);
            case "G" -> BigDecimal.valueOf(1_000_000_000L);
            case "T" -> BigDecimal.valueOf(1_000_000_000_000L);
            case "Ki" -> BigDecimal.valueOf(1L << 10);
            case "Mi" -> BigDecimal.valueOf(1L << 20);
            case "Gi" -> BigDecimal.valueOf(1L << 30);
            default -> BigDecimal.valueOf(1L << 40);
        };
        return new BigDecimal(number).multiply(factor);
    }

    public static long bytes(String text) {
        return parse(text).longValue();
    }
}
