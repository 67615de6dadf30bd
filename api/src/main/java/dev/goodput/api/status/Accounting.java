package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * Where a job's wall time and money went, recomputed from {@code status.attemptHistory} on every reconcile
 * (docs/cost.md). goodputSeconds + badputSeconds.total() = wallSeconds.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Accounting {
    @JsonPropertyDescription("Seconds from submission to the end (or now).")
    public double wallSeconds;

    @JsonPropertyDescription("Seconds pods held their node (binding to end), all attempts.")
    public double billedSeconds;

    @JsonPropertyDescription("Seconds spent on training steps the final model keeps.")
    public double goodputSeconds;

    @JsonPropertyDescription("Dollars spent on training steps the final model keeps.")
    public double goodputCost;

    @JsonPropertyDescription("Seconds of badput by cause.")
    public Badput badputSeconds = new Badput();

    @JsonPropertyDescription("Dollars of badput by cause (scheduling wait is not billed).")
    public Badput badputCost = new Badput();
}
