package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a TrainingJob. Everything the operator must not lose lives here. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingJobStatus {
    public JobPhase phase;
    @JsonPropertyDescription("The generation of the spec the current (or last) attempt runs; lower than"
            + " metadata.generation while an edit waits for the next attempt. Before the first attempt, the last"
            + " generation validated.")
    public Long observedGeneration;
    @JsonPropertyDescription("The spec the current (or last) attempt runs, as JSON: what the next attempt's spec is"
            + " compared with (event SpecChanged).")
    public String reconciledSpec;
    public List<JobCondition> conditions = new ArrayList<>();
    public Integer attempts;
    public Integer preemptions;
    public Integer failures;
    @JsonPropertyDescription("The current attempt's pods: worldSize (spec.resources.workers when it started) and how many"
            + " are Ready.")
    public Workers workers;
    public CheckpointRef lastCheckpoint;
    /** The trained model the job left behind (docs/trainer.md, "The trained model"). */
    public ModelOutput model;
    public TunedBatch tunedBatch;
    public Progress progress;
    @JsonPropertyDescription("GPU-seconds the job's pods held, all attempts (billed from binding to the pod's end).")
    public Double gpuSeconds;
    @JsonPropertyDescription("Dollars spent so far, all attempts, at the price fixed when each attempt began.")
    public Double cost;
    @JsonPropertyDescription("Wall-clock seconds from the job's creation to the end of the attempt that reached "
            + "spec.target (waiting, preemptions and lost work included); absent until then. The trainer's training "
            + "time to the target is progress.trainingTimeToTargetSeconds.")
    public Double timeToTargetSeconds;
    @JsonPropertyDescription("Dollars spent until the target was reached, all attempts up to that one; absent until then.")
    public Double costToTarget;
    public String startTime;
    public String completionTime;
    /**
     * The latest attempts' pod times, outcome, price and steps: the input of the cost accounting (docs/cost.md); older
     * ones are summed in {@link #foldedAttempts}.
     */
    @JsonPropertyDescription("The latest attempts (at most 20): pod times, outcome, price and steps, the input of the"
            + " cost accounting. Older attempts are summed in foldedAttempts.")
    public List<AttemptRecord> attemptHistory;
    @JsonPropertyDescription("The attempts older than those in attemptHistory, summed; absent until there are any.")
    public FoldedAttempts foldedAttempts;
    /** Goodput and badput by cause, recomputed from attemptHistory and foldedAttempts. */
    public Accounting accounting;
}
