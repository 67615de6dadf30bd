package dev.goodput.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real DJL training on a slice of Fashion-MNIST. */
class TrainingRunTest {

    static double mean(List<Double> xs) {
        return xs.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    @Test
    void lossFallsOverAFewHundredSteps(@TempDir Path dir) {
        StepRecorder rec = new StepRecorder();
        TrainerRun run = TestJobs.run(TestJobs.yaml("cnn", 6400, "maxSteps: 300"), dir, rec);

        assertThat(rec.losses).hasSize(300);
        double first = mean(rec.losses.subList(0, 20));
        double last = mean(rec.losses.subList(280, 300));
        assertThat(last).isLessThan(first * 0.5);
        assertThat(run.outcome().reason()).isEqualTo(TrainingLoop.Reason.BUDGET_SPENT);
        assertThat(run.outcome().finalEvaluation().accuracy()).isGreaterThan(0.7);
        assertThat(run.progress().report().lastCheckpoint.step).isEqualTo(300);
    }

    @Test
    void twoSeededRunsGiveBitIdenticalLosses(@TempDir Path dir) {
        String yaml = TestJobs.yaml("cnn", 3200, "maxSteps: 60\nbatchSize: 32\ngradientClipNorm: 1.0");
        StepRecorder a = new StepRecorder();
        StepRecorder b = new StepRecorder();
        TestJobs.run(yaml, dir.resolve("a"), a);
        TestJobs.run(yaml, dir.resolve("b"), b);
        assertThat(a.losses).hasSize(60);
        assertThat(b.losses).isEqualTo(a.losses); // exact equality of doubles, not approximate

        StepRecorder other = new StepRecorder();
        TestJobs.run(yaml.replace("seed: 7", "seed: 8"), dir.resolve("c"), other);
        assertThat(other.losses).isNotEqualTo(a.losses);
    }

    @Test
    void stopsAtTheTargetAndRecordsTimeToTarget(@TempDir Path dir) {
        StepRecorder rec = new StepRecorder();
        String yaml = TestJobs.yaml("mlp", 6400, "epochs: 20").replace("  training:",
                "  target:\n    metric: accuracy\n    value: 0.70\n    evalEverySteps: 25\n  training:");
        TrainerRun run = TestJobs.run(yaml, dir, rec);
        assertThat(run.outcome().reason()).isEqualTo(TrainingLoop.Reason.TARGET_REACHED);
        var report = run.progress().report();
        assertThat(report.targetReached).isTrue();
        assertThat(report.trainingTimeToTargetSeconds).isPositive();
        assertThat(report.samplesToTarget).isEqualTo(report.progress.samples);
        assertThat(rec.accuracies.get(rec.accuracies.size() - 1)).isGreaterThanOrEqualTo(0.70);
        assertThat(rec.accuracies.subList(0, rec.accuracies.size() - 1)).allMatch(a -> a < 0.70);
        assertThat(report.progress.step % 25).isZero();
    }
}
