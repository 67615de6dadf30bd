package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.LinkedHashMap;
import java.util.Map;

/** Badput by cause, in seconds or in dollars (docs/cost.md). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Badput {
    public static final String SCHEDULING = "scheduling";
    public static final String STARTUP = "startup";
    public static final String TUNING = "tuning";
    public static final String CHECKPOINTING = "checkpointing";
    public static final String PREEMPTION = "preemption";
    public static final String FAILED = "failed";
    /** The causes, in the order they are reported. */
    public static final String[] CAUSES = {SCHEDULING, STARTUP, TUNING, CHECKPOINTING, PREEMPTION, FAILED};

    /** Waiting for a node: from submission or the previous attempt to the pod's binding (not billed). */
    public double scheduling;
    /** Image pull, container start, trainer start-up and checkpoint restore. */
    public double startup;
    /** Batch-size tuning. */
    public double tuning;
    /** Training blocked by checkpoint saves. */
    public double checkpointing;
    /** Training steps lost to a preemption (run after the checkpoint the next attempt resumed from). */
    public double preemption;
    /** Everything a failed attempt spent except the steps kept, plus the back-off after it. */
    public double failed;

    public double get(String cause) {
        return switch (cause) {
            case SCHEDULING -> scheduling;
            case STARTUP -> startup;
            case TUNING -> tuning;
            case CHECKPOINTING -> checkpointing;
            case PREEMPTION -> preemption;
            case FAILED -> failed;
            default -> throw new IllegalArgumentException("unknown badput cause " + cause);
        };
    }

    public void add(String cause, double amount) {
        switch (cause) {
            case SCHEDULING -> scheduling += amount;
            case STARTUP -> startup += amount;
            case TUNING -> tuning += amount;
            case CHECKPOINTING -> checkpointing += amount;
            case PREEMPTION -> preemption += amount;
            case FAILED -> failed += amount;
            default -> throw new IllegalArgumentException("unknown badput cause " + cause);
        }
    }

    public double total() {
        return scheduling + startup + tuning + checkpointing + preemption + failed;
    }

    /** Cause → amount, in {@link #CAUSES} order. */
    public Map<String, Double> asMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        for (String c : CAUSES) {
            m.put(c, get(c));
        }
        return m;
    }
}
