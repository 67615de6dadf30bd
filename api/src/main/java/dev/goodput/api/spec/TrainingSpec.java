package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;

@JsonInclude(JsonInclude.Include.NON_NULL)
// batchSize is an int-or-string in the CRD (auto, 64 or "64"); these rules check its value.
@ValidationRule(value = "!has(self.batchSize) || string(self.batchSize) == 'auto'"
        + " || string(self.batchSize).matches('^[1-9][0-9]{0,8}$')",
        fieldPath = ".batchSize", message = "spec.training.batchSize must be auto or a positive integer")
@ValidationRule(value = "!has(self.batchSize) || !has(self.globalBatchSize)"
        + " || !string(self.batchSize).matches('^[1-9][0-9]{0,8}$')"
        + " || self.globalBatchSize % int(string(self.batchSize)) == 0",
        fieldPath = ".batchSize",
        message = "spec.training.batchSize must divide spec.training.globalBatchSize; pick a divisor or use auto")
@ValidationRule(value = "!has(self.precision) || self.precision != 'bf16'", fieldPath = ".precision",
        message = "spec.training.precision: bf16 is not supported by the DJL 0.36 PyTorch engine; use fp16 (mixed, on CUDA) or fp32")
public class TrainingSpec {
    @Min(1)
    @JsonPropertyDescription("Passes over the training data. One of epochs, maxSteps, maxDuration or a target bounds the run.")
    public Integer epochs;

    @Min(1)
    @JsonPropertyDescription("Optimizer steps (global batches) to run at most.")
    public Long maxSteps;

    @Pattern(Durations.PATTERN)
    @JsonPropertyDescription("Wall-clock budget for training, e.g. 30m, 2h.")
    public String maxDuration;

    @Min(1)
    @JsonPropertyDescription("Examples per optimizer step across all devices and accumulation steps.")
    public Integer globalBatchSize = DEFAULT_GLOBAL_BATCH_SIZE;

    /** Not in the CRD (it has no defaults): the CEL rules that need the global batch say it again. */
    public static final int DEFAULT_GLOBAL_BATCH_SIZE = 128;

    @Pattern("^(auto|[1-9][0-9]*)$")
    @Size(max = 9)
    @JsonPropertyDescription("Micro-batch per device: auto (tuned to memory) or a number that divides globalBatchSize.")
    public String batchSize = "auto";

    @Pattern(Quantities.PATTERN)
    @JsonPropertyDescription("Memory the batch tuner may use on CPU, e.g. 4Gi; default: the container limit.")
    public String memoryBudget;

    @Min(0)
    @Max(0.5)
    @JsonPropertyDescription("batchSize auto: the fraction below the largest micro-batch that fit that the tuner keeps free (default 0.10), for memory that grows during a long run.")
    public Double batchMargin = 0.10;

    @Min(1)
    @JsonPropertyDescription("Batch size the learning rate was chosen for; lr scales linearly with globalBatchSize / referenceBatchSize.")
    public Integer referenceBatchSize;

    public OptimizerSpec optimizer = new OptimizerSpec();

    public ScheduleSpec schedule = new ScheduleSpec();

    @Pattern("^(auto|fp32|fp16|bf16)$")
    @JsonPropertyDescription("auto = fp32 on CPU, fp16 mixed on CUDA. bf16 is refused: DJL 0.36 cannot map it.")
    public String precision = "auto";

    @Min(1)
    @JsonPropertyDescription("fp16 only: the first dynamic loss scale (default 65536); it halves on overflow and doubles after 2000 good steps.")
    public Double initialLossScale;

    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Clip the global gradient L2 norm to this value (> 0); absent = no clipping.")
    public Double gradientClipNorm;

    @Min(value = 0, inclusive = false)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Evaluate and export an exponential moving average of the weights (BatchNorm statistics"
            + " included), updated after every step with this decay, e.g. 0.99; absent = the weights themselves. Training"
            + " itself is unchanged; checkpoints keep the average too.")
    public Double emaDecay;

    @JsonPropertyDescription("Seed for initialisation, data order and augmentation.")
    public Long seed = 42L;

    @JsonPropertyDescription("bert-classifier, or torchscript given as a folder of stages: keep only each encoder layer's (or"
            + " stage's) input during the forward pass and recompute it during backward (the same gradients, bit for bit, for"
            + " less activation memory and about +50% step time); with batchSize auto the tuner finds the larger micro-batch"
            + " this allows.")
    public Boolean gradientCheckpointing;

    @Min(1)
    @Max(256)
    @JsonPropertyDescription("Compute threads (intra-op); absent = the CPUs the container may use.")
    public Integer threads;

    @JsonInclude(JsonInclude.Include.NON_NULL)
    @ValidationRule(value = "!has(self.lr) || self.lr > 0.0", fieldPath = ".lr",
            message = "spec.training.optimizer.lr must be > 0")
    public static class OptimizerSpec {
        @Pattern("^(adamw|sgd)$")
        public String name = "adamw";

        @JsonPropertyDescription("Learning rate at referenceBatchSize; must be > 0.")
        public Double lr = 1e-3;

        @Min(0)
        public Double weightDecay;

        @Min(0)
        @Max(value = 1, inclusive = false) // 1 divides Adam's bias correction by zero
        public Double beta1;

        @Min(0)
        @Max(value = 1, inclusive = false)
        public Double beta2;

        @Min(0)
        public Double eps;

        @Min(0)
        @Max(value = 1, inclusive = false) // 1 never forgets a gradient
        @JsonPropertyDescription("SGD momentum.")
        public Double momentum;

        @JsonPropertyDescription("SGD Nesterov momentum.")
        public Boolean nesterov;
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class ScheduleSpec {
        @Pattern("^(constant|cosine|linear|onecycle)$")
        @JsonPropertyDescription("Decay after warmup: constant, cosine, linear, or onecycle.")
        public String name = "cosine";

        @Min(0)
        @JsonPropertyDescription("Steps of linear warmup from 0 to the peak learning rate.")
        public Integer warmupSteps;

        @Min(0)
        @Max(1)
        @JsonPropertyDescription("Final learning rate as a share of the peak.")
        public Double minLrRatio;
    }
}
