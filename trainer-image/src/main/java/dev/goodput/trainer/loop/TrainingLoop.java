package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerPhase;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.goodput.trainer.checkpoint.CheckpointCoordinator;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.checkpoint.Snapshot;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.EpochOrder;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.metrics.TrainerMetrics;
import dev.goodput.trainer.optim.GradientClipper;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.preemption.PreemptionDetector;
import dev.goodput.trainer.precision.LossScaler;
import ai.djl.ndarray.types.DataType;
import java.util.List;

/**
 * The training loop: steps of {@code accumulation} micro-batches, each forward and backward under one gradient
 * collector, then one optimizer update and zeroed gradients. Between steps it evaluates, checkpoints, and obeys the
 * budget, the stopping rule and SIGTERM. Every step runs in an NDScope so its temporaries are freed at once.
 */
public final class TrainingLoop {
    private final NDManager manager;
    private final Block block;
    private final ParameterStore parameterStore;
    private final PairList<String, Parameter> parameters;
    private final GradientSource gradients;
    private final Optimizer optimizer;
    private final String optimizerName;
    private final TrainingPlan plan;
    private final BatchAssembler train;
    private final Evaluator evaluator;
    private final StoppingRule stopping;
    private final CheckpointCoordinator checkpoints;
    private final PreemptionDetector preemption;
    private final TrainerMetrics metrics;
    private final RunProgress progress;
    private final ProgressListener listener;
    private final ThroughputMeter meter = new ThroughputMeter();
    private final LossScaler scaler;
    private final StagingBuffers staging = new StagingBuffers();

    public enum Reason { TARGET_REACHED, BUDGET_SPENT, PATIENCE_EXHAUSTED, PREEMPTED, CHECKPOINTS_FAILING }

    public record Outcome(Reason reason, Evaluator.Result finalEvaluation, double dataWaitShare, boolean checkpointed) {}

    public TrainingLoop(NDManager manager, Block block, Optimizer optimizer, String optimizerName, TrainingPlan plan,
                        BatchAssembler train, Evaluator evaluator, StoppingRule stopping, CheckpointCoordinator checkpoints,
                        PreemptionDetector preemption, TrainerMetrics metrics, RunProgress progress, ProgressListener listener,
                        LossScaler scaler, GradientSource gradients) {
        this.scaler = scaler;
        this.manager = manager;
        this.block = block;
        this.parameterStore = new ParameterStore(manager, false);
        this.parameters = block.getParameters();
        this.gradients = gradients != null ? gradients : new GradientAccumulator(block, parameterStore);
        this.optimizer = optimizer;
        this.optimizerName = optimizerName;
        this.plan = plan;
        this.train = train;
        this.evaluator = evaluator;
        this.stopping = stopping;
        this.checkpoints = checkpoints;
        this.preemption = preemption;
        this.metrics = metrics;
        this.progress = progress;
        this.listener = listener;
    }

    public Outcome run() {
        metrics.batchSize.labelValues("micro").set(plan.microBatch());
        metrics.batchSize.labelValues("global").set(plan.globalBatch());
        progress.phase(TrainerPhase.Running);
        progress.startClock();
        checkpoints.startClock(progress.trainingSeconds(), progress.resumedFrom() == null ? -1 : progress.resumedFrom());
        try (BatchPipeline pipeline = new BatchPipeline(train, plan.seed(), plan.microBatch(), plan.accumulation(),
                progress.position(), plan.loaderWorkers(), plan.prefetch())) {
            // A job resumed after it already met its target (a pod restarted after success) just reports again.
            if (progress.isTargetReached()) return finish(Reason.TARGET_REACHED);
            while (true) {
                Reason budget = budgetSpent();
                if (budget != null) return finish(budget);
                if (preemption.stopRequested()) return preempted();
                int epochBefore = progress.position().epoch();
                StallInjection.before(progress.step());
                step(pipeline);
                boolean epochEnded = progress.position().epoch() != epochBefore;
                if (evaluationDue(epochEnded)) {
                    StoppingRule.Decision d = evaluate();
                    if (d == StoppingRule.Decision.TARGET_REACHED) return finish(Reason.TARGET_REACHED);
                    if (d == StoppingRule.Decision.PATIENCE_EXHAUSTED) return finish(Reason.PATIENCE_EXHAUSTED);
                }
                if (!preemption.stopRequested() && checkpoints.periodicDue(progress.trainingSeconds())) {
                    long t0 = System.nanoTime();
                    Snapshot s = snapshot();
                    checkpoints.saveInBackground(s, progress.trainingSeconds(), (System.nanoTime() - t0) / 1e9);
                    progress.checkpointBlocked((System.nanoTime() - t0) / 1e9); // the snapshot, and a save still in flight
                }
                if (checkpoints.failingRepeatedly()) {
                    progress.phase(TrainerPhase.Failed);
                    return new Outcome(Reason.CHECKPOINTS_FAILING, lastEvaluation, meter.overallWaitShare(), false);
                }
            }
        }
    }

    private Reason budgetSpent() {
        if (plan.totalSteps() != null && progress.step() >= plan.totalSteps()) return Reason.BUDGET_SPENT;
        if (plan.epochs() != null && progress.position().epoch() >= plan.epochs()) return Reason.BUDGET_SPENT;
        if (plan.maxDuration() != null && progress.trainingSeconds() >= plan.maxDuration().toMillis() / 1000.0) {
            return Reason.BUDGET_SPENT;
        }
        return null;
    }

    private boolean evaluationDue(boolean epochEnded) {
        if (plan.evalEverySteps() != null) return progress.step() % plan.evalEverySteps() == 0;
        return epochEnded;
    }

    /** One optimizer step; it always completes, so a SIGTERM loses no work (the step in flight is finished). */
    private void step(BatchPipeline pipeline) {
        long stepStart = System.nanoTime();
        long waitNanos = 0;
        long computeNanos = 0;
        double lossSum = 0;
        long step = progress.step();
        ExampleSet set = train.examples();
        // Dropout draws from libtorch's global generator, which a checkpoint cannot capture through DJL; seeding it
        // from (seed, step) makes every step's randomness a function of the step, so a resumed run is identical.
        JniUtils.setSeed(EpochOrder.mix(plan.seed(), step));
        BatchPipeline.Loaded loaded = null;
        try (NDScope scope = new NDScope()) {
            for (int k = 0; k < plan.accumulation(); k++) {
                long w0 = System.nanoTime();
                loaded = pipeline.next();
                long c0 = System.nanoTime();
                waitNanos += c0 - w0;
                NDArray x = staging.features(manager, loaded.batch(), Evaluator.inputShape(set, loaded.batch().size()));
                if (scaler != null) x = x.toType(DataType.FLOAT16, false);
                NDArray y = staging.labels(manager, loaded.batch());
                lossSum += gradients.forwardBackward(x, y, scaler == null ? 1f : (float) scaler.scale());
                computeNanos += System.nanoTime() - c0;
            }
            long o0 = System.nanoTime();
            List<TrainableParameter> params = gradients.gradients();
            // Each micro-batch loss is a mean, so the accumulated gradient is k means: scale by 1/k for the global mean.
            float scale = 1f / plan.accumulation();
            boolean apply = true;
            if (scaler != null) {
                scale /= (float) scaler.scale();
                apply = scaler.update(LossScaler.overflowed(params));
                progress.lossScale(scaler.scale(), scaler.goodSteps(), scaler.skippedSteps());
                if (!apply) {
                    listener.onMessage("fp16 gradients overflowed at step " + step + ": update skipped, loss scale now " + scaler.scale());
                }
            }
            if (apply && plan.clipNorm() != null) {
                scale *= GradientClipper.factor(GradientClipper.globalNorm(params, scale), plan.clipNorm());
            }
            double lr = plan.schedule().lr(step);
            if (apply) {
                optimizer.step(params, lr, scale);
                gradients.afterUpdate();
            }
            gradients.zeroGradients();
            long end = System.nanoTime();
            metrics.stepSeconds.labelValues("data").observe(waitNanos / 1e9);
            metrics.stepSeconds.labelValues("compute").observe(computeNanos / 1e9);
            metrics.stepSeconds.labelValues("optimizer").observe((end - o0) / 1e9);
            metrics.learningRate.set(lr);
        }
        double loss = lossSum / plan.accumulation();
        progress.stepDone(loaded.next(), plan.globalBatch(), loss);
        metrics.steps.inc();
        metrics.samples.inc(plan.globalBatch());
        metrics.loss.set(loss);
        meter.record(plan.globalBatch(), System.nanoTime() - stepStart, waitNanos);
        progress.throughput(meter.samplesPerSecond(), meter.recentWaitShare());
        metrics.dataWaitShare.set(meter.recentWaitShare());
        if (progress.step() % 50 == 1) {
            metrics.memoryBytes.labelValues("host_rss").set(ProcessMemory.residentBytes());
            if (manager.getDevice().isGpu()) {
                metrics.memoryBytes.labelValues("device").set(ai.djl.util.cuda.CudaUtils.getGpuMemory(manager.getDevice()).getCommitted());
            }
        }
        listener.onStep(progress.report());
    }

    private StoppingRule.Decision evaluate() {
        Evaluator.Result r = evaluator.evaluate(manager, block, parameterStore);
        StoppingRule.Verdict v = stopping.judge(r.accuracy(), r.loss(), progress.bestMetric(), progress.evalsSinceBest());
        progress.evaluated(new TrainingState.Evaluation(progress.step(), progress.position().epoch(), progress.samples(),
                progress.trainingSeconds(), r.accuracy(), r.loss()), v.best(), v.sinceBest());
        if (v.decision() == StoppingRule.Decision.TARGET_REACHED) {
            progress.targetReached(progress.trainingSeconds(), progress.samples());
        }
        metrics.metric.labelValues("accuracy").set(r.accuracy());
        metrics.metric.labelValues("test_loss").set(r.loss());
        listener.onEvaluation(progress.report(), r.accuracy(), r.loss(), r.seconds());
        lastEvaluation = r;
        lastEvaluationStep = progress.step();
        return v.decision();
    }

    private Evaluator.Result lastEvaluation;
    private long lastEvaluationStep = -1;

    private Snapshot snapshot() {
        return ModelState.snapshot(parameters, optimizer, progress.state(optimizerName, optimizer.stepCount()));
    }

    private Outcome finish(Reason reason) {
        if (lastEvaluationStep != progress.step()) evaluate();
        progress.phase(TrainerPhase.Checkpointing);
        boolean ok = saveInForeground();
        return new Outcome(reason, lastEvaluation, meter.overallWaitShare(), ok);
    }

    private Outcome preempted() {
        progress.phase(TrainerPhase.Checkpointing);
        listener.onMessage(preemption.signalName() + ": saving step " + progress.step() + " ("
                + Math.max(0, preemption.remaining().toMillis()) + " ms of grace left)");
        boolean ok = saveInForeground();
        return new Outcome(Reason.PREEMPTED, lastEvaluation, meter.overallWaitShare(), ok);
    }

    private boolean saveInForeground() {
        long t0 = System.nanoTime();
        Snapshot s = snapshot();
        boolean ok = checkpoints.saveNow(s, (System.nanoTime() - t0) / 1e9);
        progress.checkpointBlocked((System.nanoTime() - t0) / 1e9);
        return ok;
    }
}
