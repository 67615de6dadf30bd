package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * The oldest attempts of a job, summed once their records left {@code status.attemptHistory}, which keeps only the
 * latest ones so that a job preempted many times keeps a status of bounded size (docs/cost.md). Cost and goodput are
 * computed from these totals plus the records kept, so they stay what they were.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class FoldedAttempts {
    @JsonPropertyDescription("How many attempt records are summed here.")
    public int attempts;

    @JsonPropertyDescription("The last attempt summed here; the records kept start after it.")
    public int lastAttempt;

    @JsonPropertyDescription("Outcome of the last attempt summed here (Preempted or Failed).")
    public AttemptOutcome lastOutcome;

    @JsonPropertyDescription("When the last attempt summed here ended: where the wait for the next attempt begins.")
    public String lastEnded;

    @JsonPropertyDescription("Step of the last attempt's checkpoint when it ended.")
    public Long lastCheckpointStep;

    @JsonPropertyDescription("Seconds the attempts' pods held their node.")
    public double billedSeconds;

    @JsonPropertyDescription("GPU-seconds of the attempts.")
    public double gpuSeconds;

    @JsonPropertyDescription("Dollars the attempts cost.")
    public double cost;

    @JsonPropertyDescription("Seconds of their training steps the final model keeps.")
    public double goodputSeconds;

    @JsonPropertyDescription("Dollars of those seconds.")
    public double goodputCost;

    @JsonPropertyDescription("Seconds of badput by cause, the waits before each attempt included.")
    public Badput badputSeconds = new Badput();

    @JsonPropertyDescription("Dollars of badput by cause.")
    public Badput badputCost = new Badput();
}
