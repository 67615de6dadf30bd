package dev.goodput.trainer.loop;

import dev.goodput.api.spec.TargetSpec;
import dev.goodput.trainer.checkpoint.CheckpointedState;

/**
 * The target of a job: stop when the metric reaches the value (time-to-target is taken there), or give up after
 * {@code patience} evaluations without improvement.
 */
public final class StoppingRule {
    private final TargetSpec target;

    public enum Decision { CONTINUE, TARGET_REACHED, PATIENCE_EXHAUSTED }

    public record Verdict(Decision decision, Double best, int sinceBest) {}

    /**
     * What the rule has seen, as a checkpoint holds it: the best metric and the evaluations since it (for patience),
     * and whether and when (training seconds, examples) the target was first met. {@link #judge} is a pure function
     * of it; RunProgress keeps it, since /progress reports it too.
     */
    public record State(Double bestMetric, int evalsSinceBest, boolean targetReached, Double timeToTargetSeconds,
                        Long samplesToTarget) {
        public static final CheckpointedState.Key<State> KEY = new CheckpointedState.Key<>("stopping", State.class);
    }

    public StoppingRule(TargetSpec target) {
        this.target = target;
    }

    public Verdict judge(double accuracy, double loss, Double best, int sinceBest) {
        if (target == null) {
            boolean better = best == null || accuracy > best;
            return new Verdict(Decision.CONTINUE, better ? accuracy : best, better ? 0 : sinceBest + 1);
        }
        double value = target.higherIsBetter() ? accuracy : loss;
        boolean better = best == null || (target.higherIsBetter() ? value > best : value < best);
        Double newBest = better ? value : best;
        int since = better ? 0 : sinceBest + 1;
        boolean reached = target.higherIsBetter() ? value >= target.value : value <= target.value;
        if (reached) return new Verdict(Decision.TARGET_REACHED, newBest, since);
        if (target.patience != null && since >= Math.max(1, target.patience)) return new Verdict(Decision.PATIENCE_EXHAUSTED, newBest, since);
        return new Verdict(Decision.CONTINUE, newBest, since);
    }
}
