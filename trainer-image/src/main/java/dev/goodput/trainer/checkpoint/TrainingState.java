package dev.goodput.trainer.checkpoint;

import dev.goodput.api.status.TunedBatch;
import java.util.List;

/**
 * Everything besides arrays that a resumed run needs to continue exactly: where it is (step, data position), what the
 * RNGs derive from (the seed), how it was configured (batch), and what it has seen (history, time, samples).
 */
public record TrainingState(
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
        List<Evaluation> history) {

    public static final int VERSION = 1;

    /** One evaluation on the test split. */
    public record Evaluation(long step, int epoch, long samples, double trainingSeconds, double accuracy, double loss) {}
}
