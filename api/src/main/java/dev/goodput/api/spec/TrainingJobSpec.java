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
// CEL rules checked by the apiserver (CRD x-kubernetes-validations); SpecValidator repeats them for local runs.
@ValidationRule(value = "has(self.target) || (has(self.training) && (has(self.training.epochs)"
        + " || has(self.training.maxSteps) || has(self.training.maxDuration)))",
        message = "no budget: set spec.training.epochs, spec.training.maxSteps, spec.training.maxDuration or spec.target")
@ValidationRule(value = "self.model == oldSelf.model", fieldPath = ".model", reason = "FieldValueForbidden",
        message = "spec.model is immutable: checkpoints only fit the model that wrote them; create a new TrainingJob")
@ValidationRule(value = "has(self.data) == has(oldSelf.data) && (!has(self.data) || self.data == oldSelf.data)",
        fieldPath = ".data", reason = "FieldValueForbidden",
        message = "spec.data is immutable: a resumed run must see the same data in the same order; create a new TrainingJob")
@ValidationRule(value = "has(self.managedBy) == has(oldSelf.managedBy)"
        + " && (!has(self.managedBy) || self.managedBy == oldSelf.managedBy)",
        fieldPath = ".managedBy", reason = "FieldValueForbidden", message = "spec.managedBy is immutable")
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
