package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The pods of the current attempt (spec.resources.workers of them): how many there are and how many are Ready. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Workers {
    @JsonPropertyDescription("Pods of the current attempt that train together (WORLD_SIZE in their environment); a pod"
            + " with several GPUs runs one trainer process per GPU, so the processes number worldSize x gpus.")
    public Integer worldSize;

    @JsonPropertyDescription("Pods of the current attempt that are Ready.")
    public Integer ready;

    public Workers() {}

    public Workers(int worldSize, int ready) {
        this.worldSize = worldSize;
        this.ready = ready;
    }
}
