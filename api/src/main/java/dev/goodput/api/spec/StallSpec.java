package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;

/** When a trainer that serves /progress but takes no training step is stalled, and what the operator does then. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StallSpec {
    /** The floor of the default timeout: evaluations and foreground saves pause the steps of a healthy run. */
    public static final java.time.Duration DEFAULT_FLOOR = java.time.Duration.ofMinutes(5);
    /** The default timeout in mean step times, above the floor. */
    public static final int DEFAULT_STEPS = 50;

    @Pattern(Durations.PATTERN)
    @JsonPropertyDescription("How long the step counter of a running trainer may stand still before the job is Stalled,"
            + " e.g. 10m. Default: 50 mean step times, at least 5m.")
    public String timeout;

    @JsonPropertyDescription("true: a stalled trainer's pod is stopped and the job restarts from its last checkpoint,"
            + " counted as a failure (reason Stalled, backoffLimit applies). false (default): only reported"
            + " (condition Stalled, event Stalled).")
    public Boolean restart;
}
