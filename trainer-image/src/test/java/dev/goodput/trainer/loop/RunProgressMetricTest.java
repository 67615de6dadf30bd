package dev.goodput.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.Progress;
import dev.goodput.trainer.checkpoint.TrainingState;
import org.junit.jupiter.api.Test;

/** progress.metric and progress.bestMetric measure the same thing: the target's metric, named in metricName. */
class RunProgressMetricTest {
    static final TrainingState.Evaluation EVAL = new TrainingState.Evaluation(100, 1, 12_800, 30.0, 0.81, 0.52);

    @Test
    void aLossTargetReportsLossAsTheMetric() {
        RunProgress progress = new RunProgress(1, System.currentTimeMillis());
        progress.metricName("loss");
        progress.evaluated(EVAL, 0.52, 0);
        Progress p = progress.report().progress;
        assertThat(p.metricName).isEqualTo("loss");
        assertThat(p.metric).as("the test loss, not the accuracy").isEqualTo(0.52);
        assertThat(p.bestMetric).isEqualTo(0.52);
    }

    @Test
    void accuracyWhenTheTargetIsAccuracyOrThereIsNone() {
        RunProgress progress = new RunProgress(1, System.currentTimeMillis());
        progress.evaluated(EVAL, 0.81, 0);
        Progress p = progress.report().progress;
        assertThat(p.metricName).isEqualTo("accuracy");
        assertThat(p.metric).isEqualTo(0.81);
    }
}
