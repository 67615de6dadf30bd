package dev.goodput.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.loop.EvaluationHistory;
import dev.goodput.trainer.loop.LoopPosition;
import dev.goodput.trainer.loop.StoppingRule;
import dev.goodput.trainer.optim.OptimizerSteps;
import dev.goodput.trainer.precision.LossScaler;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * state.json as version 1 wrote it (one flat record, until the components kept their own state), read so that a job
 * checkpointed by an older trainer resumes exactly under this one: {@link #upgrade} maps every field to the component
 * that now owns it. Only read, never written.
 *
 * <p>Two fields have no successor: {@code accruedCost} was never written with anything but 0, and a version-1
 * checkpoint recorded no attempts, so the run report's cost counts only the attempts from the upgrade on.
 */
record TrainingStateV1(
        int version,
        long step,
        int epoch,
        int indexInEpoch,
        long seed,
        long samples,
        double trainingSeconds,
        double accruedCost,
        Double bestMetric,
        int evalsSinceBest,
        boolean targetReached,
        Double timeToTargetSeconds,
        Long samplesToTarget,
        String optimizer,
        long optimizerSteps,
        TunedBatch tunedBatch,
        Double lossScale,
        int lossScaleGoodSteps,
        long skippedSteps,
        List<TrainingState.Evaluation> history) {

    static final int VERSION = 1;

    /** The same state in version 2's shape. */
    TrainingState upgrade(ObjectMapper json) {
        Map<String, JsonNode> c = new LinkedHashMap<>();
        c.put(LoopPosition.KEY.name(), json.valueToTree(new LoopPosition(step, epoch, indexInEpoch, samples, trainingSeconds)));
        c.put(StoppingRule.State.KEY.name(), json.valueToTree(new StoppingRule.State(bestMetric, evalsSinceBest, targetReached,
                timeToTargetSeconds, samplesToTarget)));
        c.put(EvaluationHistory.KEY.name(), json.valueToTree(new EvaluationHistory(history == null ? List.of() : history)));
        c.put(OptimizerSteps.KEY.name(), json.valueToTree(new OptimizerSteps.State(optimizer, optimizerSteps)));
        // Version 1 wrote a null scale for an fp32 run (and before an fp16 run's first step): no scaler state then.
        if (lossScale != null) {
            c.put(LossScaler.KEY.name(), json.valueToTree(new LossScaler.State(lossScale, lossScaleGoodSteps, skippedSteps)));
        }
        c.put(AttemptLog.KEY.name(), json.valueToTree(new AttemptLog.State(List.of())));
        return new TrainingState(TrainingState.VERSION, step, seed, tunedBatch, c);
    }
}
