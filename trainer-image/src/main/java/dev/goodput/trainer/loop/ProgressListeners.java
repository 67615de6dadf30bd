package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.config.TrainingPlan;
import java.util.List;

/** Fans progress out to several listeners (console, metrics, run report, tests). */
public final class ProgressListeners implements ProgressListener {
    private final List<ProgressListener> listeners;

    public ProgressListeners(List<ProgressListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    @Override
    public void onFitStart(TrainingPlan plan) {
        for (ProgressListener l : listeners) l.onFitStart(plan);
    }

    @Override
    public void onStepResult(TrainingStep.Result result) {
        for (ProgressListener l : listeners) l.onStepResult(result);
    }

    @Override
    public void onStep(TrainerReport report) {
        for (ProgressListener l : listeners) l.onStep(report);
    }

    @Override
    public void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds) {
        for (ProgressListener l : listeners) l.onEvaluation(report, accuracy, loss, seconds);
    }

    @Override
    public void onMessage(String message) {
        for (ProgressListener l : listeners) l.onMessage(message);
    }

    @Override
    public void onFinish(TrainerReport report) {
        for (ProgressListener l : listeners) l.onFinish(report);
    }
}
