package dev.goodput.trainer.report;

import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.loop.ProgressListener;
import dev.goodput.trainer.metrics.TrainerMetrics;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Records what the run report needs from the progress stream, at a bounded cost: the step series keeps at most
 * {@link #MAX_POINTS} points by merging neighbours in pairs when full (so a long run's loss is averaged over more steps,
 * never thinned out), and a checkpoint is noticed when the report's lastCheckpoint changes.
 */
public final class RunReportListener implements ProgressListener {
    static final int MAX_POINTS = 1200;

    private final String jobName;
    private final String model;
    private final RunReport.Target target;
    private final Double pricePerHour;
    private final RunReport.Start start;
    private final long startNanos = System.nanoTime();
    private final List<RunReport.Point> series = new ArrayList<>();
    private final List<RunReport.Checkpoint> checkpoints = new ArrayList<>();
    private int stride = 1;
    // The bucket being filled: its steps, summed loss, and its last report.
    private int bucketSteps;
    private double bucketLoss;
    private Progress bucketLast;
    private double bucketSeconds;
    private long lastCheckpointStep;
    private String lastCheckpointTime;

    /**
     * @param spec   the job's spec (target and price)
     * @param jobName the job's name
     * @param before the run's report before its first step: the checkpoint it resumed from, if any
     */
    public RunReportListener(TrainingJobSpec spec, String jobName, TrainerReport before) {
        this.jobName = jobName;
        this.model = spec.model == null ? null : spec.model.architecture;
        this.target = spec.target == null || spec.target.value == null ? null
                : new RunReport.Target(spec.target.metric, spec.target.value);
        this.pricePerHour = spec.cost == null ? null : spec.cost.pricePerHour;
        Progress p = before.progress;
        this.start = new RunReport.Start(before.resumedFromStep, p == null ? 0 : p.step, p == null ? 0 : p.samples,
                before.trainingSeconds == null ? 0 : before.trainingSeconds);
        lastCheckpointStep = -1;
        if (before.lastCheckpoint != null) {
            CheckpointRef c = before.lastCheckpoint;
            checkpoints.add(new RunReport.Checkpoint(c.step, start.trainingSeconds(), c.bytes, c.saveSeconds,
                    start.resumed() && c.step == start.step()));
            lastCheckpointStep = c.step;
            lastCheckpointTime = c.time;
        }
    }

    @Override
    public synchronized void onStep(TrainerReport r) {
        Progress p = r.progress;
        if (p == null || r.trainingSeconds == null) return;
        noticeCheckpoint(r);
        bucketSteps++;
        bucketLoss += p.loss == null ? Double.NaN : p.loss;
        bucketLast = p;
        bucketSeconds = r.trainingSeconds;
        if (bucketSteps >= stride) closeBucket();
    }

    @Override
    public synchronized void onEvaluation(TrainerReport report, double accuracy, double loss, double seconds) {
        // The evaluations come from RunProgress.history() at the end, restored ones included.
    }

    @Override
    public void onMessage(String message) {
    }

    @Override
    public synchronized void onFinish(TrainerReport r) {
        if (bucketSteps > 0) closeBucket();
        noticeCheckpoint(r);
    }

    /**
     * The report of this process, given its final TrainerReport, the job's evaluation history and its attempts as the
     * last snapshot recorded them.
     */
    public synchronized RunReport report(TrainerReport last, List<TrainingState.Evaluation> history,
                                         List<AttemptLog.Attempt> attempts, TrainerMetrics metrics) {
        if (bucketSteps > 0) closeBucket();
        noticeCheckpoint(last);
        Progress p = last.progress;
        return new RunReport(jobName, model, target, pricePerHour, attempts, last.phase == null ? null : last.phase.name(), last.message, last.testAccuracy,
                last.testLoss, p == null ? 0 : p.step, p == null ? 0 : p.samples,
                last.trainingSeconds == null ? 0 : last.trainingSeconds, (System.nanoTime() - startNanos) / 1e9,
                last.trainingTimeToTargetSeconds, last.samplesToTarget, start, series, stride, history, checkpoints,
                metrics == null ? RunReport.StepSplit.NONE : RunReport.StepSplit.from(metrics), Instant.now());
    }

    /**
     * Writes the report's data as {@code dir/report-data.json} (milliseconds), then, when {@code render}, the page as
     * {@code dir/report.html} (the charts: seconds); {@code trainer report dir} renders the page from the data later.
     * Never throws: a report that cannot be written (no fonts in a slim image, a read-only folder) costs a line on
     * {@code out}, not the run. Returns the page, or null when it was not rendered.
     */
    public Path writeTo(Path dir, TrainerReport last, List<TrainingState.Evaluation> history,
                        List<AttemptLog.Attempt> attempts, TrainerMetrics metrics, boolean render, PrintStream out) {
        RunReport report;
        try {
            report = report(last, history, attempts, metrics);
            RunReportData.write(report, dir);
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Exception | Error e) {
            out.println("run report not written: " + e);
            return null;
        }
        if (!render) {
            out.println("run report: not rendered (too little of the grace period left); render it with: trainer report " + dir);
            return null;
        }
        return render(report, dir, out);
    }

    /** Renders {@code dir/report.html}; never throws (see {@link #writeTo}). */
    public static Path render(RunReport report, Path dir, PrintStream out) {
        long t0 = System.nanoTime();
        try {
            Path file = RunReportWriter.write(report, dir);
            out.printf(java.util.Locale.ROOT, "run report: %s (%.1fs)%n", file, (System.nanoTime() - t0) / 1e9);
            return file;
        } catch (OutOfMemoryError e) {
            throw e;
        } catch (Exception | Error e) {
            out.println("run report not written: " + e);
            return null;
        }
    }

    private void closeBucket() {
        Progress p = bucketLast;
        series.add(new RunReport.Point(p.step, bucketSeconds, p.samples, bucketLoss / bucketSteps,
                p.samplesPerSecond == null ? Double.NaN : p.samplesPerSecond,
                p.dataWaitShare == null ? Double.NaN : p.dataWaitShare));
        bucketSteps = 0;
        bucketLoss = 0;
        if (series.size() >= MAX_POINTS) merge();
    }

    /** Halves the series: each pair of points becomes one covering twice the steps. */
    private void merge() {
        List<RunReport.Point> merged = new ArrayList<>(series.size() / 2 + 1);
        for (int i = 0; i + 1 < series.size(); i += 2) {
            RunReport.Point a = series.get(i), b = series.get(i + 1);
            merged.add(new RunReport.Point(b.step(), b.seconds(), b.samples(), (a.loss() + b.loss()) / 2,
                    b.samplesPerSecond(), b.dataWaitShare()));
        }
        if (series.size() % 2 == 1) merged.add(series.get(series.size() - 1));
        series.clear();
        series.addAll(merged);
        stride *= 2;
    }

    private void noticeCheckpoint(TrainerReport r) {
        CheckpointRef c = r.lastCheckpoint;
        if (c == null || (c.step == lastCheckpointStep && java.util.Objects.equals(c.time, lastCheckpointTime))) return;
        lastCheckpointStep = c.step;
        lastCheckpointTime = c.time;
        // A background save is noticed a step or more after the step it holds: place it at that step's time.
        checkpoints.removeIf(k -> k.step() == c.step && !k.resume());
        checkpoints.add(new RunReport.Checkpoint(c.step, secondsAt(c.step), c.bytes, c.saveSeconds,
                start.resumed() && c.step == start.step() && c.bytes == 0));
    }

    /** Training time at {@code step}, interpolated from the series (exact where the series has that step). */
    private double secondsAt(long step) {
        double prevSeconds = start.trainingSeconds();
        long prevStep = start.step();
        for (RunReport.Point p : series) {
            if (p.step() >= step) {
                if (p.step() == prevStep) return p.seconds();
                return prevSeconds + (p.seconds() - prevSeconds) * (step - prevStep) / (double) (p.step() - prevStep);
            }
            prevSeconds = p.seconds();
            prevStep = p.step();
        }
        if (bucketLast != null && bucketLast.step >= step) return bucketSeconds;
        return prevSeconds;
    }
}
