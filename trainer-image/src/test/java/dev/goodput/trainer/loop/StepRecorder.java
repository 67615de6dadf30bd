package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerReport;
import java.util.ArrayList;
import java.util.List;

/** Records every step's loss and every evaluation, for tests. */
public final class StepRecorder implements ProgressListener {
    public final List<Double> losses = new ArrayList<>();
    public final List<Double> accuracies = new ArrayList<>();

    @Override
    public void onStep(TrainerReport report) {
        losses.add(report.progress.loss);
    }

    @Override
    public void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds) {
        accuracies.add(accuracy);
    }

    @Override
    public void onMessage(String message) {}

    @Override
    public void onFinish(TrainerReport report) {}
}
