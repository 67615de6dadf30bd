package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerReport;

/** What a person watching the run sees: the console bar locally, the log in a pod. */
public interface ProgressListener {
    void onStep(TrainerReport report);

    void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds);

    void onMessage(String message);

    void onFinish(TrainerReport report);
}
