package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.ArrayList;
import java.util.List;

/** Observed state of a TrainingJob. Everything the operator must not lose lives here (design.md §3). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainingJobStatus {
    public String phase;
    public Long observedGeneration;
    public List<JobCondition> conditions = new ArrayList<>();
    public Integer attempts;
    public Integer preemptions;
    public Integer failures;
    public CheckpointRef lastCheckpoint;
    public TunedBatch tunedBatch;
    public Progress progress;
    public Double gpuSeconds;
    public Double cost;
    public Double timeToTargetSeconds;
    public Double costToTarget;
    public String startTime;
    public String completionTime;
    /** Every attempt's pod times, outcome, price and steps: the input of the cost accounting (docs/cost.md). */
    public List<AttemptRecord> attemptHistory;
    /** Goodput and badput by cause, recomputed from attemptHistory. */
    public Accounting accounting;
}
