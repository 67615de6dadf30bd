package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ModelSpec {
    public static final String ARCHITECTURES = "mlp|cnn|resnet20|resnet18|resnet50";

    @Required
    @Pattern("^(" + ARCHITECTURES + ")$")
    @JsonPropertyDescription("Network: mlp, cnn (2 conv + BN + pool), resnet20 (28x28/32x32 inputs), resnet18, resnet50.")
    public String architecture = "cnn";

    @Min(1)
    @Max(1024)
    @JsonPropertyDescription("Base width: channels of the first conv layer (cnn, resnet) or units of each hidden layer (mlp) unless hiddenLayers is set.")
    public Integer width;

    @JsonPropertyDescription("MLP hidden layer sizes, e.g. [256, 128].")
    public List<Integer> hiddenLayers;

    @Min(0)
    @Max(0.9)
    @JsonPropertyDescription("Dropout before the classifier.")
    public Double dropout;
}
