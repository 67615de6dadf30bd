package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.config.TrainingPlan;

/**
 * An observer of the training loop: the console, the metrics, the run report, tests. The loop calls these in order
 * for every step and evaluation, so no observer is written to by hand from inside the step.
 */
public interface ProgressListener {
    /** Training starts (or resumes) with this plan. */
    default void onFitStart(TrainingPlan plan) {}

    /** A step finished: its loss, learning rate and timings, before {@link #onStep} with the progress it made. */
    default void onStepResult(TrainingStep.Result result) {}

    void onStep(TrainerReport report);

    void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds);

    void onMessage(String message);

    void onFinish(TrainerReport report);
}
