package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/**
 * The desired state of a TrainingJob. The same object is read by the operator (as the CR's spec) and by the trainer
 * (from the manifest file), so a job behaves the same on a laptop and on a cluster.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
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
