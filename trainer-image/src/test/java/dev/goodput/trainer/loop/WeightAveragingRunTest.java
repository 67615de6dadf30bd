package dev.goodput.trainer.loop;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * spec.training.emaDecay on a real run: training is the same step for step, evaluation measures the average, and a
 * run stopped and resumed evaluates exactly what an uninterrupted one does, because checkpoints carry the average.
 */
class WeightAveragingRunTest {
    // A constant learning rate without warmup: a cosine, and the default warmup, are planned over each run's maxSteps.
    static final String PLAIN = TestJobs.yaml("cnn", 3200, "maxSteps: 60\nschedule:\n  name: constant\n  warmupSteps: 0")
            .replace("  training:", "  target:\n    metric: accuracy\n    value: 0.999\n    evalEverySteps: 20\n  training:");
    static final String AVERAGED = PLAIN.replace("maxSteps: 60", "maxSteps: 60\n    emaDecay: 0.9");

    /** Every evaluation's test loss, which moves with any change in the evaluated weights. */
    static final class Losses implements ProgressListener {
        final List<Double> losses = new ArrayList<>();
        final List<Double> evalLosses = new ArrayList<>();

        @Override
        public void onStep(TrainerReport report) {
            losses.add(report.progress.loss);
        }

        @Override
        public void onMessage(String message) {}

        @Override
        public void onFinish(TrainerReport report) {}

        @Override
        public void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds) {
            evalLosses.add(loss);
        }
    }

    @Test
    void trainingIsUnchangedAndEvaluationReadsTheAverage(@TempDir Path dir) {
        Losses plain = new Losses();
        Losses averaged = new Losses();
        TestJobs.run(PLAIN, dir.resolve("plain"), plain);
        TrainerRun run = TestJobs.run(AVERAGED, dir.resolve("averaged"), averaged);
        assertThat(averaged.losses).as("the training losses, bit for bit").isEqualTo(plain.losses);
        assertThat(averaged.evalLosses).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(averaged.evalLosses.get(i)).as("evaluation %d", i).isNotEqualTo(plain.evalLosses.get(i));
        }
        assertThat(run.outcome().finalEvaluation().loss()).isEqualTo(averaged.evalLosses.get(2));
    }

    @Test
    void aResumedRunAveragesExactlyAsAnUninterruptedOne(@TempDir Path dir) {
        Losses whole = new Losses();
        TestJobs.run(AVERAGED, dir.resolve("whole"), whole);
        Losses first = new Losses();
        Losses second = new Losses();
        TestJobs.run(AVERAGED.replace("maxSteps: 60", "maxSteps: 30"), dir.resolve("split"), first);
        TrainerRun resumed = TestJobs.run(AVERAGED, dir.resolve("split"), second);
        assertThat(resumed.progress().report().resumedFromStep).isEqualTo(30);
        List<Double> all = new ArrayList<>(first.losses);
        all.addAll(second.losses);
        assertThat(all).isEqualTo(whole.losses);
        // Evaluations at steps 20, 30 (the first run's end), 40, 60: the one at 40 and at 60 follow the resume.
        assertThat(second.evalLosses.get(second.evalLosses.size() - 1)).isEqualTo(whole.evalLosses.get(whole.evalLosses.size() - 1));
        assertThat(second.evalLosses.get(0)).as("step 40").isEqualTo(whole.evalLosses.get(1));
    }
}
