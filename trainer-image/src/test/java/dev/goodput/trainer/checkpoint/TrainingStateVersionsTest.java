package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.loop.EvaluationHistory;
import dev.goodput.trainer.loop.LoopPosition;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.loop.StoppingRule;
import dev.goodput.trainer.precision.LossScaler;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * state.json of version 1 (as the trainer wrote it until the components kept their own state) is read as version 2,
 * every field reaching the component that now owns it; an unknown version is refused.
 */
class TrainingStateVersionsTest {
    /** Written by the version-1 trainer (93c6d6d) for an fp16 job at step 120, indented as it indents. */
    static final String VERSION_1 = """
            {
              "version" : 1,
              "step" : 120,
              "epoch" : 2,
              "indexInEpoch" : 1280,
              "seed" : 7,
              "samples" : 7680,
              "trainingSeconds" : 41.123456789,
              "accruedCost" : 0.0,
              "bestMetric" : 0.8125,
              "evalsSinceBest" : 1,
              "targetReached" : false,
              "timeToTargetSeconds" : null,
              "samplesToTarget" : null,
              "optimizer" : "adamw",
              "optimizerSteps" : 118,
              "tunedBatch" : {
                "micro" : 32,
                "accumulation" : 2,
                "global" : 64,
                "lr" : 0.002,
                "source" : "tuned",
                "device" : "cpu",
                "key" : "k1"
              },
              "lossScale" : 16384.0,
              "lossScaleGoodSteps" : 37,
              "skippedSteps" : 2,
              "history" : [ {
                "step" : 50,
                "epoch" : 0,
                "samples" : 3200,
                "trainingSeconds" : 17.5,
                "accuracy" : 0.8125,
                "loss" : 0.51
              }, {
                "step" : 100,
                "epoch" : 1,
                "samples" : 6400,
                "trainingSeconds" : 34.25,
                "accuracy" : 0.8,
                "loss" : 0.49
              } ]
            }
            """;

    @Test
    void aVersionOneStateRestoresEveryComponentAsItWas() throws Exception {
        TrainingState s = CheckpointStore.readState(VERSION_1.getBytes(StandardCharsets.UTF_8));
        assertThat(s.version()).isEqualTo(TrainingState.VERSION);
        assertThat(s.step()).isEqualTo(120);
        assertThat(s.seed()).isEqualTo(7);
        assertThat(s.tunedBatch().micro).isEqualTo(32);
        assertThat(s.tunedBatch().source).isEqualTo("tuned");

        RunProgress progress = new RunProgress(3, 0);
        LossScaler scaler = new LossScaler(LossScaler.INITIAL, LossScaler.GROWTH_INTERVAL);
        AttemptLog attempts = new AttemptLog(3, 0, 2.5, progress::isTargetReached, () -> 3_600_000);
        StepCount optimizer = new StepCount();
        CheckpointedStates states = new CheckpointedStates();
        progress.checkpointed().forEach(states::register);
        states.register(optimizer.component()).register(scaler).register(attempts);
        assertThat(states.restore(s.components())).isEmpty();

        assertThat(progress.loopPosition()).isEqualTo(new LoopPosition(120, 2, 1280, 7680, 41.123456789));
        assertThat(progress.resumedFrom()).isEqualTo(120);
        assertThat(progress.stoppingState()).isEqualTo(new StoppingRule.State(0.8125, 1, false, null, null));
        assertThat(progress.evaluationHistory()).isEqualTo(new EvaluationHistory(List.of(
                new TrainingState.Evaluation(50, 0, 3200, 17.5, 0.8125, 0.51),
                new TrainingState.Evaluation(100, 1, 6400, 34.25, 0.8, 0.49))));
        assertThat(optimizer.steps).isEqualTo(118);
        assertThat(scaler.save()).isEqualTo(new LossScaler.State(16384.0, 37, 2));
        // Version 1 recorded no attempts: only this process's is known from here on.
        assertThat(attempts.save().attempts()).containsExactly(new AttemptLog.Attempt(3, 3600, 2.5, false));
    }

    @Test
    void aVersionOneFp32StateHasNoLossScaler() throws Exception {
        TrainingState s = CheckpointStore.readState(VERSION_1.replace("\"lossScale\" : 16384.0", "\"lossScale\" : null")
                .getBytes(StandardCharsets.UTF_8));
        assertThat(s.components()).doesNotContainKey(LossScaler.KEY.name()).containsKeys(LoopPosition.KEY.name(), AttemptLog.KEY.name());
    }

    @Test
    void versionTwoReadsBackWhatWasCollected() throws Exception {
        TrainingState v1 = CheckpointStore.readState(VERSION_1.getBytes(StandardCharsets.UTF_8));
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        TrainingState v2 = CheckpointStore.readState(json.writeValueAsBytes(v1));
        // As text: a number collected from a long and one read back from JSON are different node types, same value.
        assertThat(json.writeValueAsString(v2)).isEqualTo(json.writeValueAsString(v1)).contains("\"version\":2");
        assertThat(v2.components().keySet()).containsExactly(LoopPosition.KEY.name(), StoppingRule.State.KEY.name(),
                EvaluationHistory.KEY.name(), "optimizer", LossScaler.KEY.name(), AttemptLog.KEY.name());
    }

    @Test
    void anUnknownVersionIsRefused() {
        assertThatThrownBy(() -> CheckpointStore.readState(VERSION_1.replace("\"version\" : 1", "\"version\" : 3")
                .getBytes(StandardCharsets.UTF_8))).isInstanceOf(CheckpointCorruptException.class)
                .hasMessageContaining("state version 3 is neither 1 nor 2");
    }

    /** An optimizer's step count, without arrays. */
    static final class StepCount {
        long steps;

        CheckpointedState<dev.goodput.trainer.optim.OptimizerSteps.State> component() {
            return CheckpointedState.of(dev.goodput.trainer.optim.OptimizerSteps.KEY, () -> null, s -> steps = s.steps());
        }
    }
}
