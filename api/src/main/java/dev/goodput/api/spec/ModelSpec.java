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
@ValidationRule(value = "!has(self.lora) || self.architecture in ['bert-classifier', 'torchscript']", fieldPath = ".lora",
        message = "spec.model.lora adds adapters to linear layers: it applies to architecture bert-classifier and torchscript")
@ValidationRule(value = "!has(self.lora) || !has(self.trainable) || self.architecture == 'torchscript'", fieldPath = ".trainable",
        message = "spec.model.trainable and spec.model.lora both choose what trains: with lora on bert-classifier the adapters and the head train; set one of them")
@ValidationRule(value = "!has(self.lora) || !has(self.lora.targets) || self.architecture != 'bert-classifier'"
        + " || self.lora.targets.all(t, t in ['query', 'key', 'value', 'attention.output.dense', 'intermediate.dense', 'output.dense'])",
        fieldPath = ".lora.targets",
        message = "spec.model.lora.targets: for bert-classifier each is one of query, key, value, attention.output.dense, intermediate.dense, output.dense")
@ValidationRule(value = "!has(self.lora) || self.architecture != 'torchscript' || has(self.lora.targets)", fieldPath = ".lora.targets",
        reason = "FieldValueRequired",
        message = "spec.model.lora.targets is required for a torchscript module: the names of the nn.Linear layers to adapt (e.g. [fc] for the parameter fc.weight)")
@ValidationRule(value = "!has(self.lora) || self.architecture != 'torchscript' || !has(self.lora.dropout) || self.lora.dropout == 0.0",
        fieldPath = ".lora.dropout",
        message = "spec.model.lora.dropout must be 0 for a torchscript module: its adapters are merged into the layer's weight, outside the module's forward, where there is no input to drop")
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
            + " frozen. Absent = everything trains. With lora on a torchscript module: what trains besides the adapters"
            + " (e.g. the classifier).")
    public String trainable;

    @JsonPropertyDescription("Train low-rank adapters on the chosen linear layers, the weights frozen: on bert-classifier with"
            + " the new head; on a torchscript module with what trainable names.")
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
        @JsonPropertyDescription("Dropout on the adapter's input (default 0.1; torchscript: 0, the only value it takes).")
        public Double dropout;

        @Size(min = 1, max = 16)
        @JsonPropertyDescription("Linear layers that get adapters, by the end of their name. bert-classifier: query, key, value,"
                + " attention.output.dense, intermediate.dense, output.dense (default [query, value]). torchscript (required):"
                + " module names whose .weight is 2-D, e.g. fc matches fc.weight and encoder.fc.weight; the trainer refuses"
                + " a name that matches no module, listing the module's.")
        public List<String> targets;

        public int rankOrDefault() {
            return rank == null ? 8 : rank;
        }

        public double alphaOrDefault() {
            return alpha == null ? 16.0 : alpha;
        }

        /** 0.1, except for a torchscript module, whose adapters take no dropout. */
        public double dropoutOrDefault(String architecture) {
            return dropout != null ? dropout : "torchscript".equals(architecture) ? 0.0 : 0.1;
        }

        public List<String> targetsOrDefault() {
            return targets == null ? DEFAULT_TARGETS : targets;
        }
    }
}
