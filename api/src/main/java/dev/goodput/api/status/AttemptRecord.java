package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/**
 * One attempt (its trainer pod, or its gang of spec.resources.workers pods) as the accounting needs it, kept in {@code status.attemptHistory} so that cost and
 * goodput are recomputed from status alone after an operator restart (docs/cost.md). Times are RFC 3339 instants.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class AttemptRecord {
    @JsonPropertyDescription("Attempt number (pod label goodput.dev/attempt).")
    public int attempt;

    @JsonPropertyDescription("Running, Succeeded, Preempted or Failed.")
    public AttemptOutcome outcome;

    @JsonPropertyDescription("Why the attempt ended (e.g. EvictionByEvictionAPI, OOMKilled, TargetReached).")
    public String reason;

    @JsonPropertyDescription("metadata.generation of the spec this attempt runs.")
    public Long generation;

    @JsonPropertyDescription("The trainer container's exit code, once it has one: 0 done, 75 stopped with its checkpoint"
            + " written (a preemption), 74 checkpoint failed, 78 refused its configuration, 137 killed (SIGKILL or"
            + " out of memory).")
    public Integer exitCode;

    @JsonPropertyDescription("When the pod was created.")
    public String created;

    @JsonPropertyDescription("When the pod was bound to a node (PodScheduled=True); billing starts here.")
    public String scheduled;

    @JsonPropertyDescription("When the trainer container started.")
    public String started;

    @JsonPropertyDescription("When the pod ended (container finished, or pod gone); billing stops here. Absent while it runs.")
    public String ended;

    @JsonPropertyDescription("GPUs of the attempt: GPUs per pod x workers.")
    public Integer gpus;

    @JsonPropertyDescription("Pods of the attempt (spec.resources.workers); absent for one.")
    public Integer workers;

    @JsonPropertyDescription("spot or on-demand.")
    public String capacity;

    @JsonPropertyDescription("Dollars per hour of all the attempt's pods (one pod's price x workers), fixed when the"
            + " attempt began; absent when unpriced.")
    public Double pricePerHour;

    @JsonPropertyDescription("Step the attempt resumed from (0 for a fresh start).")
    public Long startStep;

    @JsonPropertyDescription("Last step the attempt completed.")
    public Long endStep;

    @JsonPropertyDescription("Step of the last checkpoint when the attempt ended.")
    public Long checkpointStep;

    @JsonPropertyDescription("Trainer-reported seconds from process start to the first step, tuning excluded.")
    public Double startupSeconds;

    @JsonPropertyDescription("Trainer-reported seconds spent tuning the batch size.")
    public Double tuningSeconds;

    @JsonPropertyDescription("Trainer-reported seconds training was blocked by checkpoint saves.")
    public Double checkpointSeconds;

    @JsonPropertyDescription("The attempt reached spec.target.")
    public Boolean targetReached;
}
