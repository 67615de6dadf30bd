package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** The stopping rule. Reaching it ends the job successfully and fixes time-to-target and cost-to-target. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.metric != 'accuracy' || (self.value > 0.0 && self.value <= 1.0)", fieldPath = ".value",
        message = "spec.target.value: accuracy is a share in (0, 1]")
public class TargetSpec {
    @Required
    @Pattern("^(accuracy|loss)$")
    @JsonPropertyDescription("Metric evaluated on the test set: accuracy (higher is better) or loss (lower is better).")
    public String metric = "accuracy";

    @Required
    @JsonPropertyDescription("Value that ends the job when reached.")
    public Double value;

    @Min(0)
    @JsonPropertyDescription("Evaluations without improvement after which the job stops without reaching the target; absent = never.")
    public Integer patience;

    @Min(1)
    @JsonPropertyDescription("Evaluate every N optimizer steps; absent = at the end of each epoch.")
    public Integer evalEverySteps;

    public boolean higherIsBetter() {
        return "accuracy".equals(metric);
    }
}
