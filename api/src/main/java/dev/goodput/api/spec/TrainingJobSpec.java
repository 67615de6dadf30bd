package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * The desired state of a TrainingJob. The same object is read by the operator (as the CR's spec) and by the trainer
 * (from the manifest file), so a job behaves the same on a laptop and on a cluster.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
// CEL rules checked by the apiserver (CRD x-kubernetes-validations); a local run runs the same rules from the
// generated CRD (api/validation/CrdRules).
@ValidationRule(value = "has(self.target) || (has(self.training) && (has(self.training.epochs)"
        + " || has(self.training.maxSteps) || has(self.training.maxDuration)))",
        message = "no budget: set spec.training.epochs, spec.training.maxSteps, spec.training.maxDuration or spec.target")
@ValidationRule(value = "self.model == oldSelf.model", fieldPath = ".model", reason = "FieldValueForbidden",
        message = "spec.model is immutable: checkpoints only fit the model that wrote them; create a new TrainingJob")
@ValidationRule(value = "has(self.data) == has(oldSelf.data) && (!has(self.data) || self.data == oldSelf.data)",
        fieldPath = ".data", reason = "FieldValueForbidden",
        message = "spec.data is immutable: a resumed run must see the same data in the same order; create a new TrainingJob")
@ValidationRule(value = "(has(self.suspend) && self.suspend) || (has(oldSelf.suspend) && oldSelf.suspend)"
        + " || (has(self.training) == has(oldSelf.training) && (!has(self.training) || (true"
        + " && (has(self.training.epochs) == has(oldSelf.training.epochs)"
        + " && (!has(self.training.epochs) || self.training.epochs == oldSelf.training.epochs))"
        + " && (has(self.training.maxSteps) == has(oldSelf.training.maxSteps)"
        + " && (!has(self.training.maxSteps) || self.training.maxSteps == oldSelf.training.maxSteps))"
        + " && (has(self.training.globalBatchSize) == has(oldSelf.training.globalBatchSize)"
        + " && (!has(self.training.globalBatchSize) || self.training.globalBatchSize == oldSelf.training.globalBatchSize))"
        + " && (has(self.training.batchSize) == has(oldSelf.training.batchSize)"
        + " && (!has(self.training.batchSize) || self.training.batchSize == oldSelf.training.batchSize))"
        + " && (has(self.training.memoryBudget) == has(oldSelf.training.memoryBudget)"
        + " && (!has(self.training.memoryBudget) || self.training.memoryBudget == oldSelf.training.memoryBudget))"
        + " && (has(self.training.batchMargin) == has(oldSelf.training.batchMargin)"
        + " && (!has(self.training.batchMargin) || self.training.batchMargin == oldSelf.training.batchMargin))"
        + " && (has(self.training.referenceBatchSize) == has(oldSelf.training.referenceBatchSize)"
        + " && (!has(self.training.referenceBatchSize) || self.training.referenceBatchSize == oldSelf.training.referenceBatchSize))"
        + " && (has(self.training.optimizer) == has(oldSelf.training.optimizer)"
        + " && (!has(self.training.optimizer) || self.training.optimizer == oldSelf.training.optimizer))"
        + " && (has(self.training.schedule) == has(oldSelf.training.schedule)"
        + " && (!has(self.training.schedule) || self.training.schedule == oldSelf.training.schedule))"
        + " && (has(self.training.precision) == has(oldSelf.training.precision)"
        + " && (!has(self.training.precision) || self.training.precision == oldSelf.training.precision))"
        + " && (has(self.training.initialLossScale) == has(oldSelf.training.initialLossScale)"
        + " && (!has(self.training.initialLossScale) || self.training.initialLossScale == oldSelf.training.initialLossScale))"
        + " && (has(self.training.gradientClipNorm) == has(oldSelf.training.gradientClipNorm)"
        + " && (!has(self.training.gradientClipNorm) || self.training.gradientClipNorm == oldSelf.training.gradientClipNorm))"
        + " && (has(self.training.seed) == has(oldSelf.training.seed)"
        + " && (!has(self.training.seed) || self.training.seed == oldSelf.training.seed))"
        + " && (has(self.training.threads) == has(oldSelf.training.threads)"
        + " && (!has(self.training.threads) || self.training.threads == oldSelf.training.threads))"
        + ")))",
        fieldPath = ".training", reason = "FieldValueForbidden",
        message = "spec.training changes the training trajectory (optimizer, schedule, batch, precision, seed, threads,"
                + " epochs, maxSteps) and is refused while the job may be running, because its checkpoints were written"
                + " under the old settings: set spec.suspend: true (the trainer checkpoints and stops), edit, then set"
                + " spec.suspend: false; the next attempt resumes that checkpoint under the new settings, with a"
                + " SpecChanged event. spec.training.maxDuration and spec.training.emaDecay (what is evaluated, not what is trained)"
                + " may change at any time and apply at the next attempt.")
@ValidationRule(value = "has(self.managedBy) == has(oldSelf.managedBy)"
        + " && (!has(self.managedBy) || self.managedBy == oldSelf.managedBy)",
        fieldPath = ".managedBy", reason = "FieldValueForbidden", message = "spec.managedBy is immutable")
@ValidationRule(value = "(self.model.architecture == 'bert-classifier') == (has(self.data) && has(self.data.format)"
        + " && self.data.format in ['textcsv', 'textfolder'])", fieldPath = ".data.format",
        message = "spec.data.format: bert-classifier reads text (textcsv or textfolder), and text formats need a text model (bert-classifier)")
@ValidationRule(value = "!has(self.training) || !has(self.training.gradientCheckpointing) || !self.training.gradientCheckpointing"
        + " || self.model.architecture == 'bert-classifier' || self.model.architecture == 'torchscript'",
        fieldPath = ".training.gradientCheckpointing",
        message = "spec.training.gradientCheckpointing recomputes a model's segments in backward: it applies to bert-classifier,"
                + " and to torchscript given as a folder of stages")
@ValidationRule(value = "self.model.architecture != 'bert-classifier' || !has(self.training) || !has(self.training.precision)"
        + " || self.training.precision != 'fp16'", fieldPath = ".training.precision",
        message = "spec.training.precision: fp16 is not yet supported for bert-classifier; use auto or fp32")
// Data-parallel jobs (spec.resources.workers > 1): every pod mounts the checkpoint claim and rank 0 writes it, so the
// claim the operator would create (ReadWriteOnce: one node) cannot serve pods on several nodes; and each rank trains
// an equal share of the global batch.
@ValidationRule(value = ResourcesSpec.CEL_ONE_WORKER + " || (has(self.checkpoint) && has(self.checkpoint.claimName))",
        fieldPath = ".resources.workers",
        message = "spec.resources.workers > 1 needs spec.checkpoint.claimName: every worker pod mounts the checkpoint"
                + " claim, and the one the operator creates is ReadWriteOnce (one node); name a ReadWriteMany claim")
@ValidationRule(value = ResourcesSpec.CEL_ONE_WORKER + " || (has(self.training) && has(self.training.globalBatchSize) ? self.training.globalBatchSize : "
        + TrainingSpec.DEFAULT_GLOBAL_BATCH_SIZE + ")"
        + " % (self.resources.workers * (has(self.resources.gpus) && self.resources.gpus > 1 ? self.resources.gpus : 1))"
        + " == 0",
        fieldPath = ".training.globalBatchSize",
        message = "spec.training.globalBatchSize (default 128) must be divisible by spec.resources.workers x"
                + " spec.resources.gpus (workers alone without GPUs): each rank trains an equal share of every step's"
                + " global batch")
public class TrainingJobSpec {
    @Required
    @JsonPropertyDescription("The network to train and its size.")
    public ModelSpec model = new ModelSpec();

    @JsonPropertyDescription("Where the data comes from and how it is fed to the model.")
    public DataSpec data = new DataSpec();

    @JsonPropertyDescription("Optimisation settings: budget, batch, optimizer, schedule, precision.")
    public TrainingSpec training = new TrainingSpec();

    @JsonPropertyDescription("When the job has reached its goal; defines time-to-target.")
    public TargetSpec target;

    @JsonPropertyDescription("Where and how often checkpoints are written.")
    public CheckpointSpec checkpoint = new CheckpointSpec();

    @JsonPropertyDescription("What the trainer pod asks of the cluster.")
    public ResourcesSpec resources = new ResourcesSpec();

    @JsonPropertyDescription("Price override for this job.")
    public CostSpec cost;

    @JsonPropertyDescription("When a running trainer that takes no step is stalled, and whether it is restarted.")
    public StallSpec stall;

    @JsonPropertyDescription("Trainer image; the operator's default when empty.")
    public String image;

    @JsonPropertyDescription("true checkpoints the job and stops its pod; false resumes it.")
    public Boolean suspend;

    @Min(0)
    @JsonPropertyDescription("Failed attempts (not preemptions) tolerated before the job is Failed. Default 3.")
    public Integer backoffLimit;

    @Min(0)
    @JsonPropertyDescription("Seconds after Succeeded or Failed before the job is deleted.")
    public Integer ttlSecondsAfterFinished;

    @JsonPropertyDescription("Controller that manages this job; anything but goodput.dev/operator makes the operator stand aside (Kueue MultiKueue).")
    public String managedBy;

    public int backoffLimitOrDefault() {
        return backoffLimit == null ? 3 : backoffLimit;
    }
}
