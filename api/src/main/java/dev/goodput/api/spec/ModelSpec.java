package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

@JsonInclude(JsonInclude.Include.NON_NULL)
// CEL rules checked by the apiserver and, from the generated CRD, by the trainer on a laptop (api/validation).
@ValidationRule(value = "self.architecture != 'bert-classifier' || has(self.pretrained)", fieldPath = ".pretrained",
        reason = "FieldValueRequired",
        message = "spec.model.pretrained is required for bert-classifier: the folder holding config.json, model.safetensors and tokenizer.json")
@ValidationRule(value = "!has(self.pretrained) || self.architecture == 'bert-classifier'", fieldPath = ".pretrained",
        message = "spec.model.pretrained names transformer weights and applies only to architecture bert-classifier")
@ValidationRule(value = "(self.architecture == 'torchscript') == has(self.torchscript)", fieldPath = ".torchscript",
        reason = "FieldValueRequired",
        message = "spec.model.torchscript (the path of your exported module) goes with architecture: torchscript, and only with it")
@ValidationRule(value = "!has(self.lora) || self.architecture == 'bert-classifier'", fieldPath = ".lora",
        message = "spec.model.lora adds adapters to a transformer's linear layers: it applies to architecture bert-classifier")
@ValidationRule(value = "!has(self.lora) || !has(self.trainable)", fieldPath = ".trainable",
        message = "spec.model.trainable and spec.model.lora both choose what trains: with lora only the adapters and the head train; set one of them")
public class ModelSpec {
    public static final String ARCHITECTURES = "mlp|cnn|resnet20|resnet18|resnet50|bert-classifier|torchscript";

    @Required
    @Pattern("^(" + ARCHITECTURES + ")$")
    @JsonPropertyDescription("Network: mlp, cnn (2 conv + BN + pool), resnet20 (28x28/32x32 inputs), resnet18, resnet50;"
            + " bert-classifier (a pretrained BERT-family encoder and a new classification head, text data; set pretrained);"
            + " torchscript (your own exported module; set torchscript).")
    public String architecture = "cnn";

    /** The networks the trainer builds itself, as opposed to a pretrained transformer or a user's module. */
    public static boolean builtIn(String architecture) {
        return !"bert-classifier".equals(architecture) && !"torchscript".equals(architecture);
    }

    @Size(min = 1, max = 4096)
    @JsonPropertyDescription("bert-classifier: the folder holding the pretrained weights (config.json, model.safetensors,"
            + " tokenizer.json), on the local disk or inside the pod (e.g. under spec.data.claimName's mount).")
    public String pretrained;

    @Size(min = 1, max = 4096)
    @JsonPropertyDescription("torchscript: the file of your module (torch.jit.script of an nn.Module in train mode,"
            + " forward(inputs) -> logits), or a folder of stages stage-0.pt, stage-1.pt, ... run in sequence (for gradient"
            + " checkpointing), on the local disk or inside the pod (e.g. under spec.data.claimName's mount).")
    public String torchscript;

    @Size(min = 1, max = 1024)
    @JsonPropertyDescription("A regular expression over parameter names: only parameters it matches (find) train, the rest are"
            + " frozen. Absent = everything trains.")
    public String trainable;

    @JsonPropertyDescription("bert-classifier: train low-rank adapters on the chosen linear layers and the head, with the"
            + " pretrained weights frozen.")
    public LoraSpec lora;

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

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class LoraSpec {
        public static final List<String> DEFAULT_TARGETS = List.of("query", "value");

        @Min(1)
        @Max(256)
        @JsonPropertyDescription("Rank of each adapter (default 8).")
        public Integer rank;

        @Min(value = 0, inclusive = false)
        @Max(1024)
        @JsonPropertyDescription("Scaling: the adapter's output is multiplied by alpha / rank (default 16).")
        public Double alpha;

        @Min(0)
        @Max(0.9)
        @JsonPropertyDescription("Dropout on the adapter's input (default 0.1).")
        public Double dropout;

        @Size(min = 1, max = 8)
        @JsonPropertyDescription("Linear layers that get adapters, by the end of their name: query, key, value,"
                + " attention.output.dense, intermediate.dense, output.dense (default [query, value]).")
        @ValidationRule(value = "self.all(t, t in ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'])",
                message = "spec.model.lora.targets: each is one of query, key, value, attention.output.dense, intermediate.dense, output.dense")
        public List<String> targets;

        public int rankOrDefault() {
            return rank == null ? 8 : rank;
        }

        public double alphaOrDefault() {
            return alpha == null ? 16.0 : alpha;
        }

        public double dropoutOrDefault() {
            return dropout == null ? 0.1 : dropout;
        }

        public List<String> targetsOrDefault() {
            return targets == null ? DEFAULT_TARGETS : targets;
        }
    }
}
