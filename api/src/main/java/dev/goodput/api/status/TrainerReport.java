package dev.goodput.api.status;

import com.fasterxml.jackson.annotation.JsonAlias;
import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The part of the status the trainer owns: served as JSON on /progress and written as the termination message.
 * The operator never reads checkpoint files; this is how it learns of them.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TrainerReport {
    public TrainerPhase phase;
    public Integer attempt;
    public Progress progress;
    public CheckpointRef lastCheckpoint;
    /** The trained model written when training ended; absent before that and after a preemption. */
    public ModelOutput model;
    /** Checkpoint saves that failed since the last one that succeeded (absent when the last save succeeded). */
    public Integer checkpointFailures;
    /** Why the last save failed, while {@link #checkpointFailures} is set: the cause first ("disk full (…)"). */
    public String checkpointError;
    public TunedBatch tunedBatch;
    public Boolean targetReached;
    /**
     * Training seconds (this and earlier attempts; start-up, tuning and waiting excluded) until the target was first
     * met; null until then. Not the job's wall-clock time-to-target, which the operator computes (status).
     */
    @JsonAlias("timeToTargetSeconds") // its name in trainers before 0.1.0's typed contract
    public Double trainingTimeToTargetSeconds;
    public Long samplesToTarget;
    /** Training seconds of all attempts so far (steps and evaluation; start-up, tuning and waiting excluded). */
    public Double trainingSeconds;
    public Double testAccuracy;
    public Double testLoss;
    public Integer exitCode;
    /** Peak resident memory of the trainer process since tuning ended (host RAM, native memory included). */
    public Long peakMemoryBytes;
    public String message;
    /** Step the run resumed from, if any, and which checkpoint was used. */
    public Long resumedFromStep;
    /** Seconds of this attempt from process start to the first training step, tuning excluded (docs/cost.md). */
    public Double startupSeconds;
    /** Seconds of this attempt spent tuning the batch size. */
    public Double tuningSeconds;
    /** Seconds of this attempt during which training waited for checkpoint saves. */
    public Double checkpointSeconds;
}
