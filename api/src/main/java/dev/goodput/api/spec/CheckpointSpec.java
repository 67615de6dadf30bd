package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class CheckpointSpec {
    @JsonPropertyDescription("Existing PersistentVolumeClaim for checkpoints; absent = the operator creates one.")
    public String claimName;

    @Pattern(Quantities.PATTERN)
    @JsonPropertyDescription("Size of the claim the operator creates.")
    public String storage;

    @JsonPropertyDescription("StorageClass of the claim the operator creates.")
    public String storageClassName;

    @Pattern(Durations.PATTERN)
    @JsonPropertyDescription("Training time between periodic checkpoints, e.g. 5m.")
    public String interval = "5m";

    @Min(1)
    @Max(100)
    @JsonPropertyDescription("Checkpoints kept on disk.")
    public Integer keep = 3;

    @Min(1)
    @Max(3600)
    @JsonPropertyDescription("Seconds the trainer has between SIGTERM and SIGKILL; absent = derived from checkpoint size.")
    public Integer gracePeriodSeconds;
}
