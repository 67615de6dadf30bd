package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Where training stands; the trainer reports it and the operator copies it into status. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class Progress {
    public long step;
    public Long totalSteps;
    public int epoch;
    public long samples;
    public Double samplesPerSecond;
    public Double loss;
    @JsonPropertyDescription("What metric and bestMetric measure on the test split: spec.target.metric (accuracy or"
            + " loss), accuracy when the job has no target.")
    public String metricName;
    @JsonPropertyDescription("metricName at the last evaluation.")
    public Double metric;
    @JsonPropertyDescription("The best metricName so far (highest accuracy, lowest loss).")
    public Double bestMetric;
    public Double etaSeconds;
    @JsonPropertyDescription("When the trainer finished its last training step (or started training, before the first):"
            + " what the operator's stall detection measures.")
    public String lastStepAt;
    /** Share of step time spent waiting for data; above 0.1 the job is input-bound. */
    public Double dataWaitShare;
    /**
     * Training seconds (all attempts, start-up, tuning and waiting excluded) until the target was reached, as the
     * trainer measured it; null until then. The operator copies it from the trainer's report; status.timeToTargetSeconds
     * is the wall-clock figure from submission (docs/cost.md).
     */
    @JsonPropertyDescription("Training seconds (all attempts; start-up, tuning and waiting excluded) until the target was "
            + "reached, as the trainer measured it. status.timeToTargetSeconds is wall-clock time from submission.")
    public Double trainingTimeToTargetSeconds;
}
