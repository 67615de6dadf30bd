package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class CostSpec {
    @Min(0)
    @JsonPropertyDescription("Price in dollars per hour of one whole trainer pod, overriding the operator's price table; a job with several workers pays it for each.")
    public Double pricePerHour;
}
