package dev.goodput.api.spec;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Pattern;
import java.util.List;
import java.util.Map;

@JsonInclude(JsonInclude.Include.NON_NULL)
public class ResourcesSpec {
    @Min(0)
    @Max(16)
    @JsonPropertyDescription("GPUs in each trainer pod (nvidia.com/gpu); 0 trains on CPU.")
    public Integer gpus = 0;

    /** Most pods of one job: a gang restarts as a unit, and the larger it is the more often one member is preempted. */
    public static final int MAX_WORKERS = 64;
    /** CEL, on a spec: true when the job runs one pod, so that a rule about several workers holds at once. */
    public static final String CEL_ONE_WORKER = "!has(self.resources) || !has(self.resources.workers)"
            + " || self.resources.workers <= 1";

    @Min(1)
    @Max(MAX_WORKERS)
    @JsonPropertyDescription("Trainer pods that train the job together, data-parallel (one process per pod, gpus GPUs"
            + " each); default 1. With more than one they start, stop and restart as a unit, each pod trains"
            + " globalBatchSize / workers examples of every step's global batch (which must be divisible by workers x"
            + " max(gpus, 1)), and all of them mount the checkpoint claim, which must then be one that pods on several"
            + " nodes can share (spec.checkpoint.claimName, ReadWriteMany).")
    public Integer workers; // absent means 1, and stays absent: job.yaml and status.reconciledSpec of one-pod jobs do not change

    @JsonPropertyDescription("GPU model, e.g. nvidia-h100-80gb: selects the price and, through the operator's GPU-type node label (goodput.dev/gpu-type unless the chart sets another), the node.")
    public String gpuType;

    @Pattern(Quantities.PATTERN)
    public String cpu;

    @Pattern(Quantities.PATTERN)
    public String memory;

    public Map<String, String> nodeSelector;

    @JsonPropertyDescription("Pod tolerations, as in a Pod spec.")
    public List<Map<String, Object>> tolerations;

    public String priorityClassName;

    @JsonPropertyDescription("Run on spot/preemptible capacity: priced as such, and placed with the operator's spot node selector and tolerations (goodput.dev/capacity-type: spot unless the chart sets others). Preemptions are expected and never count as failures.")
    public Boolean spot;
}
