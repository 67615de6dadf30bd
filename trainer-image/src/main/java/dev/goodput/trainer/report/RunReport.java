package dev.goodput.trainer.report;

import dev.goodput.api.cost.CostToTarget;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.metrics.TrainerMetrics;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import java.time.Instant;
import java.util.List;

/**
 * What one trainer process observed, for the local run report: the step series (bounded in size), every evaluation
 * (those restored from the checkpoint's history included), the checkpoint marks and the final figures. Times are
 * training seconds, accrued across attempts as RunProgress counts them, so a resumed run's charts continue where the
 * previous process stopped.
 *
 * @param jobName           metadata.name of the TrainingJob
 * @param model             architecture, for the title
 * @param target            the stopping target, or null when the job trains to its budget
 * @param pricePerHour      spec.cost.pricePerHour, or null (no price set)
 * @param attempts          the job's trainer processes as the last snapshot recorded them (AttemptLog): what cost and
 *                          cost-to-target are computed from
 * @param phase             Succeeded or Preempted
 * @param result            why the run ended, as the console summary says it
 * @param testAccuracy      final test accuracy, or null
 * @param testLoss          final test loss, or null
 * @param steps             optimizer steps at the end (all attempts)
 * @param samples           training examples at the end (all attempts)
 * @param trainingSeconds   training time at the end (all attempts)
 * @param wallSeconds       wall-clock time of this process from the start of training to the report
 * @param timeToTargetSeconds training time at which the target was first met, or null
 * @param samplesToTarget   examples seen when the target was first met, or null
 * @param start             where this process started: step 0, or the checkpoint it resumed from
 * @param series            step series of this process, each point the mean of {@code stride} consecutive steps
 * @param stride            steps per point of {@code series}
 * @param evaluations       every evaluation of the job so far, oldest first
 * @param checkpoints       checkpoints this process saved (and the one it resumed from)
 * @param split             step time by phase, summed over this process's steps
 * @param writtenAt         when the report was written
 */
public record RunReport(String jobName, String model, Target target, Double pricePerHour,
                        List<AttemptLog.Attempt> attempts, String phase, String result,
                        Double testAccuracy, Double testLoss, long steps, long samples, double trainingSeconds,
                        double wallSeconds, Double timeToTargetSeconds, Long samplesToTarget, Start start,
                        List<Point> series, int stride, List<TrainingState.Evaluation> evaluations,
                        List<Checkpoint> checkpoints, StepSplit split, Instant writtenAt) {

    /** Above this share of step time spent waiting for data, the job is input-bound (as the console says). */
    public static final double INPUT_BOUND_SHARE = 0.10;

    public RunReport {
        // report-data.json from before attempts were recorded has none: no cost can be told then.
        attempts = attempts == null ? List.of() : List.copyOf(attempts);
        series = List.copyOf(series);
        evaluations = List.copyOf(evaluations);
        checkpoints = List.copyOf(checkpoints);
    }

    /** The target: {@code metric} is accuracy (higher is better) or loss (lower is better). */
    public record Target(String metric, double value) {
        public boolean isAccuracy() {
            return "accuracy".equals(metric);
        }
    }

    /** The state this process began from; {@code resumedFromStep} is null for a fresh run. */
    public record Start(Long resumedFromStep, long step, long samples, double trainingSeconds) {
        public boolean resumed() {
            return resumedFromStep != null;
        }
    }

    /**
     * One point of the step series: the last step of its bucket, the training time and examples after it, the mean
     * training loss over the bucket, and the throughput meter's samples/s and data-wait share at its end.
     */
    public record Point(long step, double seconds, long samples, double loss, double samplesPerSecond,
                        double dataWaitShare) {}

    /**
     * A checkpoint: the step it holds, the training time of that step, its size and persist time. {@code resume}
     * marks the checkpoint this process started from rather than one it saved.
     */
    public record Checkpoint(long step, double seconds, long bytes, Double saveSeconds, boolean resume) {}

    /** Seconds spent in each phase of a step, summed over {@code steps} steps. */
    public record StepSplit(double dataSeconds, double computeSeconds, double optimizerSeconds, long steps) {
        public static final StepSplit NONE = new StepSplit(0, 0, 0, 0);

        /** Reads the sums of goodput_trainer_step_seconds{phase} from this process's metrics. */
        public static StepSplit from(TrainerMetrics metrics) {
            double data = 0, compute = 0, optimizer = 0;
            long count = 0;
            for (HistogramSnapshot.HistogramDataPointSnapshot p : metrics.stepSeconds.collect().getDataPoints()) {
                double sum = p.hasSum() ? p.getSum() : 0;
                switch (p.getLabels().get("phase")) {
                    case "data" -> {
                        data = sum;
                        count = p.getCount();
                    }
                    case "compute" -> compute = sum;
                    case "optimizer" -> optimizer = sum;
                    default -> { }
                }
            }
            return new StepSplit(data, compute, optimizer, count);
        }

        public double totalSeconds() {
            return dataSeconds + computeSeconds + optimizerSeconds;
        }

        public double dataWaitShare() {
            return totalSeconds() <= 0 ? 0 : dataSeconds / totalSeconds();
        }
    }

    public boolean targetReached() {
        return timeToTargetSeconds != null;
    }

    public boolean preempted() {
        return "Preempted".equals(phase);
    }

    /** Examples per second of training time, over the whole job (as the console summary computes it). */
    public double meanSamplesPerSecond() {
        return samples / Math.max(1e-9, trainingSeconds);
    }

    /** The billed cost of every attempt recorded, or null when none had a price. */
    public Double cost() {
        return priced() ? CostToTarget.total(billed()) : null;
    }

    /**
     * By the rule the operator shares ({@link CostToTarget}): every attempt up to and including the one that reached
     * the target; null when none had a price or none reached it.
     */
    public Double costToTarget() {
        return priced() ? CostToTarget.dollars(billed()) : null;
    }

    private boolean priced() {
        return attempts.stream().anyMatch(a -> a.pricePerHour() != null);
    }

    private List<CostToTarget.Attempt> billed() {
        return attempts.stream().map(AttemptLog.Attempt::billed).toList();
    }

    public boolean inputBound() {
        return split.dataWaitShare() > INPUT_BOUND_SHARE;
    }

    /** Evaluations that came from the checkpoint this process resumed from, not from this process. */
    public long restoredEvaluations() {
        if (!start.resumed()) return 0;
        return evaluations.stream().filter(e -> e.step() <= start.step()).count();
    }
}
