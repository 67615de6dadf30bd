package dev.goodput.trainer.loop;

import dev.goodput.api.status.TrainerPhase;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.goodput.trainer.checkpoint.CheckpointCoordinator;
import dev.goodput.trainer.checkpoint.CheckpointedStates;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.checkpoint.ModelArrays;
import dev.goodput.trainer.checkpoint.Snapshot;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.optim.AveragedWeights;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.preemption.PreemptionDetector;
import dev.goodput.trainer.precision.LossScaler;

/**
 * The training loop: runs {@link TrainingStep}s, and between them evaluates, checkpoints, and obeys the budget, the
 * stopping rule and SIGTERM. What each step and evaluation did goes to the listeners (console, metrics, run report).
 */
public final class TrainingLoop {
    private final NDManager manager;
    private final Block block;
    private final ParameterStore parameterStore;
    private final ModelArrays arrays;
    private final TrainingStep trainingStep;
    private final Optimizer optimizer;
    private final TrainingPlan plan;
    private final BatchAssembler train;
    private final Evaluator evaluator;
    private final StoppingRule stopping;
    private final CheckpointCoordinator checkpoints;
    private final PreemptionDetector preemption;
    private final RunProgress progress;
    private final ProgressListener listener;
    private final ThroughputMeter meter = new ThroughputMeter();
    private final LossScaler scaler;
    private final CheckpointedStates states;
    private final Peers peers;

    public enum Reason { TARGET_REACHED, BUDGET_SPENT, PATIENCE_EXHAUSTED, PREEMPTED, CHECKPOINTS_FAILING }

    public record Outcome(Reason reason, Evaluator.Result finalEvaluation, double dataWaitShare, boolean checkpointed) {}

    /** The model and what trains it, as the assembler built them; the loop only sequences them. */
    public record Parts(NDManager manager, Block block, ModelArrays arrays, ParameterStore parameterStore, TrainingStep step, Optimizer optimizer,
                        LossScaler scaler, BatchAssembler train, Evaluator evaluator) {}

    /**
     * @param states every component whose state a checkpoint holds besides the arrays; collected at each snapshot
     */
    public TrainingLoop(Parts parts, TrainingPlan plan, StoppingRule stopping, CheckpointCoordinator checkpoints,
                        PreemptionDetector preemption, RunProgress progress, CheckpointedStates states,
                        ProgressListener listener) {
        this(parts, plan, stopping, checkpoints, preemption, progress, states, listener, Peers.NONE);
    }

    /**
     * @param peers the other processes training this model: stops are agreed with them and only the leader saves
     */
    public TrainingLoop(Parts parts, TrainingPlan plan, StoppingRule stopping, CheckpointCoordinator checkpoints,
                        PreemptionDetector preemption, RunProgress progress, CheckpointedStates states,
                        ProgressListener listener, Peers peers) {
        this.peers = peers;
        this.manager = parts.manager();
        this.block = parts.block();
        this.parameterStore = parts.parameterStore();
        this.arrays = parts.arrays();
        this.trainingStep = parts.step();
        this.optimizer = parts.optimizer();
        this.scaler = parts.scaler();
        this.train = parts.train();
        this.evaluator = parts.evaluator();
        this.plan = plan;
        this.stopping = stopping;
        this.checkpoints = checkpoints;
        this.preemption = preemption;
        this.progress = progress;
        this.states = states;
        this.listener = listener;
    }

    public Outcome run() {
        listener.onFitStart(plan);
        progress.phase(TrainerPhase.Running);
        progress.startClock();
        checkpoints.startClock(progress.trainingSeconds(), progress.resumedFrom() == null ? -1 : progress.resumedFrom());
        try (BatchPipeline pipeline = new BatchPipeline(train, plan.seed(), plan.microBatch(), plan.accumulation(),
                plan.shard(), progress.position(), plan.loaderWorkers(), plan.prefetch())) {
            // A job resumed after it already met its target (a pod restarted after success) just reports again.
            if (progress.isTargetReached()) return finish(Reason.TARGET_REACHED);
            while (true) {
                // What only this process may have seen is agreed first: a SIGTERM, its clock, its failing saves.
                boolean[] seen = peers.any(checkpoints.failingRepeatedly(), timeSpent(), preemption.stopRequested());
                if (seen[0]) {
                    progress.phase(TrainerPhase.Failed);
                    return new Outcome(Reason.CHECKPOINTS_FAILING, lastEvaluation, meter.overallWaitShare(), false);
                }
                Reason budget = budgetSpent(seen[1]);
                if (budget != null) return finish(budget);
                if (seen[2]) {
                    if (!preemption.stopRequested()) preemption.stopWithPeer();
                    return preempted();
                }
                int epochBefore = progress.position().epoch();
                StallInjection.before(progress.step());
                step(pipeline);
                boolean epochEnded = progress.position().epoch() != epochBefore;
                if (evaluationDue(epochEnded)) {
                    StoppingRule.Decision d = evaluate();
                    if (d == StoppingRule.Decision.TARGET_REACHED) return finish(Reason.TARGET_REACHED);
                    if (d == StoppingRule.Decision.PATIENCE_EXHAUSTED) return finish(Reason.PATIENCE_EXHAUSTED);
                }
                if (peers.leader() && !preemption.stopRequested() && checkpoints.periodicDue(progress.trainingSeconds())) {
                    long t0 = System.nanoTime();
                    Snapshot s = snapshot();
                    checkpoints.saveInBackground(s, progress.trainingSeconds(), (System.nanoTime() - t0) / 1e9);
                    progress.checkpointBlocked((System.nanoTime() - t0) / 1e9); // the snapshot, and a save still in flight
                }
            }
        }
    }

    /** @param timeSpent maxDuration ran out (on any process) */
    private Reason budgetSpent(boolean timeSpent) {
        if (plan.totalSteps() != null && progress.step() >= plan.totalSteps()) return Reason.BUDGET_SPENT;
        if (plan.epochs() != null && progress.position().epoch() >= plan.epochs()) return Reason.BUDGET_SPENT;
        return timeSpent ? Reason.BUDGET_SPENT : null;
    }

    private boolean timeSpent() {
        return plan.maxDuration() != null && progress.trainingSeconds() >= plan.maxDuration().toMillis() / 1000.0;
    }

    private boolean evaluationDue(boolean epochEnded) {
        if (plan.evalEverySteps() != null) return progress.step() % plan.evalEverySteps() == 0;
        return epochEnded;
    }

    /** One optimizer step, then its observers: progress, throughput, the listeners. */
    private void step(BatchPipeline pipeline) {
        long stepStart = System.nanoTime();
        TrainingStep.Result r = trainingStep.run(progress.step(), pipeline, train.examples());
        if (scaler != null && !r.applied()) {
            listener.onMessage("fp16 gradients overflowed at step " + r.step() + ": update skipped, loss scale now " + scaler.scale());
        }
        progress.stepDone(r.next(), plan.globalBatch(), r.loss());
        meter.record(plan.globalBatch(), System.nanoTime() - stepStart, r.waitNanos());
        progress.throughput(meter.samplesPerSecond(), meter.recentWaitShare());
        listener.onStepResult(r);
        listener.onStep(progress.report());
    }

    private StoppingRule.Decision evaluate() {
        Evaluator.Result r;
        // With spec.training.emaDecay, what is evaluated is the weights' moving average.
        try (AveragedWeights.Swap averaged = AveragedWeights.inPlaceOfWeights(optimizer)) {
            r = evaluator.evaluate(manager, block, parameterStore);
        }
        StoppingRule.Verdict v = stopping.judge(r.accuracy(), r.loss(), progress.bestMetric(), progress.evalsSinceBest());
        // Every process evaluates the same parameters on the same data; the leader's verdict is the one all act on, so
        // a difference in the last bit of a loss cannot stop one process and not another.
        v = new StoppingRule.Verdict(StoppingRule.Decision.values()[(int) peers.fromLeader(v.decision().ordinal())[0]],
                v.best(), v.sinceBest());
        progress.evaluated(new TrainingState.Evaluation(progress.step(), progress.position().epoch(), progress.samples(),
                progress.trainingSeconds(), r.accuracy(), r.loss()), v.best(), v.sinceBest());
        if (v.decision() == StoppingRule.Decision.TARGET_REACHED) {
            progress.targetReached(progress.trainingSeconds(), progress.samples());
        }
        listener.onEvaluation(progress.report(), r.accuracy(), r.loss(), r.seconds());
        lastEvaluation = r;
        lastEvaluationStep = progress.step();
        return v.decision();
    }

    private Evaluator.Result lastEvaluation;
    private long lastEvaluationStep = -1;

    /** Phase one of a save, between steps on this thread: the arrays and every component's state at this step. */
    private Snapshot snapshot() {
        TrainingState state = new TrainingState(TrainingState.VERSION, progress.step(), plan.seed(), progress.tunedBatch(),
                states.collect());
        return ModelState.snapshot(arrays, optimizer, state);
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

    /** The leader saves; every process returns once that save is durable (or failed), with its verdict. */
    private boolean saveInForeground() {
        long t0 = System.nanoTime();
        boolean ok = false;
        if (peers.leader()) {
            Snapshot s = snapshot();
            ok = checkpoints.saveNow(s, (System.nanoTime() - t0) / 1e9);
        }
        ok = peers.fromLeader(ok ? 1 : 0)[0] == 1;
        progress.checkpointBlocked((System.nanoTime() - t0) / 1e9);
        return ok;
    }
}
