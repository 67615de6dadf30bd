package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.trainer.checkpoint.CheckpointedState;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.data.DataPosition;
import java.util.ArrayList;
import java.util.List;

/**
 * The run's mutable progress, written by the training thread and read by the HTTP thread for /progress. What it owns
 * and a checkpoint must hold (the loop's position, the stopping rule's state, the evaluation history) it offers as
 * {@link CheckpointedState} components ({@link #checkpointed()}), so /progress and the checkpoint read the same
 * fields and never disagree. Other components' state (optimizer, loss scaler) is theirs to save, not copied here.
 */
public final class RunProgress {
    private Long totalSteps;
    private TrainerPhase phase = TrainerPhase.Starting;
    /** Wall-clock time of the last step (or of the training start), for the operator's stall detection; -1 before. */
    private long lastStepMillis = -1;
    private long step;
    private DataPosition position = DataPosition.START;
    private long samples;
    private double baseSeconds;
    private long attemptStartNanos = -1;
    private Double bestMetric;
    private String metricName = "accuracy";
    private int evalsSinceBest;
    private boolean targetReached;
    private Double timeToTarget;
    private Long samplesToTarget;
    private Double loss;
    private Double samplesPerSecond;
    private Double dataWaitShare;
    private TunedBatch tunedBatch;
    private CheckpointRef lastCheckpoint;
    private dev.goodput.api.status.ModelOutput model;
    private Integer checkpointFailures;
    private String checkpointError;
    private Long resumedFrom;
    private final List<TrainingState.Evaluation> history = new ArrayList<>();
    // This attempt's time breakdown for the operator's badput accounting (docs/cost.md): wall seconds.
    private final int attempt;
    private final long processStartMillis;
    private double tuningSeconds;
    private Double startupSeconds;
    private double checkpointSeconds;

    /**
     * @param attempt            which attempt of the job this process is (GOODPUT_ATTEMPT)
     * @param processStartMillis when this process started (the JVM's start time), for the start-up share
     */
    public RunProgress(int attempt, long processStartMillis) {
        this.attempt = attempt;
        this.processStartMillis = processStartMillis;
    }

    /**
     * What {@code progress.metric} and {@code bestMetric} measure: the target's metric ({@code accuracy} or {@code loss}),
     * so the two never disagree; accuracy for a job without a target.
     */
    public synchronized void metricName(String name) {
        this.metricName = name;
    }

    public synchronized void totalSteps(Long total) {
        this.totalSteps = total;
    }

    /** The loop's position, the stopping rule's state and the evaluation history, as checkpointed components. */
    public List<CheckpointedState<?>> checkpointed() {
        return List.of(
                CheckpointedState.of(LoopPosition.KEY, this::loopPosition, this::restore),
                CheckpointedState.of(StoppingRule.State.KEY, this::stoppingState, this::restore),
                CheckpointedState.of(EvaluationHistory.KEY, this::evaluationHistory, this::restore));
    }

    /** Where the loop is now; the training time includes this attempt's so far. */
    public synchronized LoopPosition loopPosition() {
        return new LoopPosition(step, position.epoch(), position.index(), samples, trainingSeconds());
    }

    /** Resumes at a checkpoint's position: the training time accrues from its value. */
    public synchronized void restore(LoopPosition p) {
        step = p.step();
        position = new DataPosition(p.epoch(), p.indexInEpoch());
        samples = p.samples();
        baseSeconds = p.trainingSeconds();
        resumedFrom = p.step();
    }

    public synchronized StoppingRule.State stoppingState() {
        return new StoppingRule.State(bestMetric, evalsSinceBest, targetReached, timeToTarget, samplesToTarget);
    }

    public synchronized void restore(StoppingRule.State s) {
        bestMetric = s.bestMetric();
        evalsSinceBest = s.evalsSinceBest();
        targetReached = s.targetReached();
        timeToTarget = s.timeToTargetSeconds();
        samplesToTarget = s.samplesToTarget();
    }

    public synchronized EvaluationHistory evaluationHistory() {
        return new EvaluationHistory(history);
    }

    public synchronized void restore(EvaluationHistory h) {
        history.clear();
        history.addAll(h.evaluations());
    }

    /**
     * Starts the clock of this attempt; training time accrues across attempts from the checkpoint's value. What came
     * before, from process start, is start-up (JVM, data, resume, model), tuning excepted.
     */
    public synchronized void startClock() {
        attemptStartNanos = System.nanoTime();
        lastStepMillis = System.currentTimeMillis();
        startupSeconds = Math.max(0, (System.currentTimeMillis() - processStartMillis) / 1000.0 - tuningSeconds);
    }

    /** The batch tuner ran for this long in this attempt. */
    public synchronized void tuned(double seconds) {
        tuningSeconds += seconds;
    }

    /** Training waited this long for a checkpoint (a snapshot, a save in the foreground, or a save still in flight). */
    public synchronized void checkpointBlocked(double seconds) {
        checkpointSeconds += seconds;
    }

    public synchronized double trainingSeconds() {
        return baseSeconds + (attemptStartNanos < 0 ? 0 : (System.nanoTime() - attemptStartNanos) / 1e9);
    }

    public synchronized void stepDone(DataPosition next, int globalBatch, double stepLoss) {
        step++;
        lastStepMillis = System.currentTimeMillis();
        position = next;
        samples += globalBatch;
        loss = stepLoss;
    }

    public synchronized void throughput(double samplesPerSec, double waitShare) {
        samplesPerSecond = samplesPerSec;
        dataWaitShare = waitShare;
    }

    public synchronized void evaluated(TrainingState.Evaluation e, Double best, int sinceBest) {
        history.add(e);
        bestMetric = best;
        evalsSinceBest = sinceBest;
    }

    public synchronized void targetReached(double seconds, long atSamples) {
        if (!targetReached) {
            targetReached = true;
            timeToTarget = seconds;
            samplesToTarget = atSamples;
        }
    }

    public synchronized TrainerReport report() {
        TrainerReport r = new TrainerReport();
        r.phase = phase;
        Progress p = new Progress();
        p.step = step;
        p.lastStepAt = lastStepMillis < 0 ? null : java.time.Instant.ofEpochMilli(lastStepMillis).toString();
        p.totalSteps = totalSteps;
        p.epoch = position.epoch();
        p.samples = samples;
        // One decimal: it is shown as it is (kubectl get tj's SAMPLES/S column), and more digits are noise.
        p.samplesPerSecond = samplesPerSecond == null ? null : Math.round(samplesPerSecond * 10) / 10.0;
        p.loss = loss;
        p.dataWaitShare = dataWaitShare;
        p.metricName = metricName;
        if (!history.isEmpty()) {
            TrainingState.Evaluation last = history.get(history.size() - 1);
            p.metric = "loss".equals(metricName) ? last.loss() : last.accuracy();
        }
        p.bestMetric = bestMetric;
        if (totalSteps != null && samplesPerSecond != null && samplesPerSecond > 0 && step > 0) {
            p.etaSeconds = (totalSteps - step) * ((double) samples / step) / samplesPerSecond;
        }
        r.progress = p;
        r.lastCheckpoint = lastCheckpoint;
        r.model = model;
        r.checkpointFailures = checkpointFailures;
        r.checkpointError = checkpointError;
        r.tunedBatch = tunedBatch;
        r.targetReached = targetReached;
        r.trainingTimeToTargetSeconds = timeToTarget;
        r.samplesToTarget = samplesToTarget;
        r.trainingSeconds = trainingSeconds();
        r.resumedFromStep = resumedFrom;
        r.attempt = attempt;
        r.startupSeconds = startupSeconds;
        r.tuningSeconds = tuningSeconds;
        r.checkpointSeconds = checkpointSeconds;
        return r;
    }

    public synchronized void phase(TrainerPhase phase) {
        this.phase = phase;
    }

    public synchronized void tunedBatch(TunedBatch tb) {
        this.tunedBatch = tb;
    }

    public synchronized TunedBatch tunedBatch() {
        return tunedBatch;
    }

    /** The trained model, once written at the end of training. */
    public synchronized void model(dev.goodput.api.status.ModelOutput written) {
        this.model = written;
    }

    public synchronized void checkpointed(CheckpointRef ref) {
        this.lastCheckpoint = ref;
        this.checkpointFailures = null;
        this.checkpointError = null;
    }

    /** A save failed; reported on /progress until the next one succeeds. */
    public synchronized void checkpointFailed(int consecutive, String message) {
        this.checkpointFailures = consecutive;
        this.checkpointError = message;
    }

    public synchronized long step() {
        return step;
    }

    public synchronized DataPosition position() {
        return position;
    }

    public synchronized long samples() {
        return samples;
    }

    public synchronized Double bestMetric() {
        return bestMetric;
    }

    public synchronized int evalsSinceBest() {
        return evalsSinceBest;
    }

    public synchronized boolean isTargetReached() {
        return targetReached;
    }

    public synchronized List<TrainingState.Evaluation> history() {
        return List.copyOf(history);
    }

    public synchronized Long resumedFrom() {
        return resumedFrom;
    }
}
