package dev.goodput.trainer.run;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.trainer.config.BatchChoice;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.runtime.NativeHeap;
import dev.goodput.trainer.tune.BatchSizeTuner;
import dev.goodput.trainer.tune.MemoryMeter;
import dev.goodput.trainer.tune.MemoryProbe;
import dev.goodput.trainer.tune.TuningCache;
import dev.goodput.trainer.tune.TuningKey;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Chooses the micro-batch, first source that has one: the checkpoint being resumed (a resumed run keeps its batch,
 * so its trajectory does not change), a fixed spec.training.batchSize, the tuning cache, the tuner's probes of the
 * real step, and without a memory budget the whole global batch in one pass.
 */
public final class BatchPlanner {
    /** Most probes the tuner runs (each a few real steps). */
    static final int MAX_PROBES = 8;
    /** Real steps per probe: the first allocates the optimizer's state, later ones show the steady peak. */
    static final int STEPS_PER_PROBE = 3;

    /**
     * @param choice    the batch
     * @param key       the tuning key it was chosen under, when a memory budget took part; null otherwise
     * @param peakShare the tuned batch's measured peak as a share of the budget, when this run tuned it
     */
    public record Decision(BatchChoice choice, String key, Optional<Double> peakShare) {

        /** What the run reports and checkpoints of this choice, once the steps are planned for it. */
        public TunedBatch tunedBatch(dev.goodput.trainer.config.TrainingPlan steps, String deviceType) {
            TunedBatch tb = new TunedBatch();
            tb.micro = steps.microBatch();
            tb.accumulation = steps.accumulation();
            tb.global = steps.globalBatch();
            tb.lr = steps.schedule().peak();
            tb.source = choice.source();
            tb.device = deviceType;
            tb.key = key;
            return tb;
        }
    }

    private final TrainingJobSpec spec;
    private final RunPlan run;
    private final DataSource.Splits data;
    private final RunProgress progress;
    private final PrintStream out;

    public BatchPlanner(TrainingJobSpec spec, RunPlan run, DataSource.Splits data, RunProgress progress, PrintStream out) {
        this.spec = spec;
        this.run = run;
        this.data = data;
        this.progress = progress;
        this.out = out;
    }

    public Decision choose(Optional<TunedBatch> fromCheckpoint, NDManager manager) {
        // A checkpoint's batch is kept when it was planned for as many processes as there are now; with another number
        // each one's share differs and it is planned again (the trajectory does not depend on how a share is split).
        Optional<TunedBatch> resumed = fromCheckpoint.filter(tb -> tb.device == null || tb.device.equals(run.devices().type()))
                .filter(tb -> tb.global == tb.micro * tb.accumulation * run.shard().ranks());
        if (resumed.isPresent()) {
            TunedBatch tb = resumed.get();
            return new Decision(new BatchChoice(tb.micro, tb.accumulation, "checkpoint"), tb.key, Optional.empty());
        }
        if (!run.autoBatch()) return new Decision(BatchChoice.fixed(run.rankBatch(), run.batchSize()), null, Optional.empty());
        if (!run.budget().present()) {
            out.println("batchSize auto: no memory budget (memoryBudget, resources.memory or a container limit); one pass per global batch");
            return new Decision(BatchChoice.fixed(run.rankBatch(), "auto"), null, Optional.empty());
        }
        TuningKey tuningKey = key();
        String key = tuningKey.text();
        TuningCache cache = TuningCache.fromEnvironment();
        OptionalInt cached = cache == null ? OptionalInt.empty() : cache.lookup(tuningKey);
        if (cached.isPresent()) {
            out.println("tuning: micro-batch " + cached.getAsInt() + " from the tuning cache (key " + key + "), no probes");
            return new Decision(BatchChoice.forMicro(run.rankBatch(), cached.getAsInt(), "cache"), key, Optional.empty());
        }
        return tune(manager, key);
    }

    /** The key of what the probes run (see ProbeSteps). */
    TuningKey key() {
        ExampleSet train = data.train();
        String step = TuningKey.step(run.optimizer().name(), spec.training.gradientClipNorm != null, run.loaderWorkers(),
                run.prefetch()) + (run.recompute() ? "-gc" : "");
        // Text is probed at its widest batch (ProbeSteps), which is the shape that bounds its memory.
        int width = train.isText() ? train.atWidestBatches().widestBatch() : train.width();
        return TuningKey.of(run.model(), new Shape(train.channels(), train.height(), width), run.precision(), step,
                run.devices().type(), run.budget().bytes(), run.batchMargin());
    }

    private Decision tune(NDManager manager, String key) {
        long budget = run.budget().bytes();
        MemoryMeter meter = run.devices().gpu() ? MemoryMeter.cuda(run.devices().devices().get(0)) : MemoryMeter.host();
        progress.phase(TrainerPhase.Tuning);
        // Probes measure the resident set: freed memory must leave it between them (runtime/NativeHeap), or a probe
        // would count what a larger one before it left, and one over the budget would keep the run over it.
        NativeHeap.returnFreedMemory();
        BatchSizeTuner.Result r = new BatchSizeTuner(budget, run.batchMargin(), MAX_PROBES)
                .tune(run.rankBatch(), new MemoryProbe(manager, new ProbeSteps(spec, run, data), STEPS_PER_PROBE, meter));
        progress.tuned(r.seconds());
        Optional<Double> share = r.probes().stream().filter(p -> p.fits() && !p.predicted() && p.micro() == r.largestFit())
                .map(p -> (double) p.peakBytes() / budget).findFirst();
        for (BatchSizeTuner.Probe p : r.probes()) {
            out.printf("tuning: micro-batch %4d %s (%s)%n", p.micro(), p.fits() ? "fits" : "does not fit", p.note());
        }
        out.printf(Locale.ROOT, "tuning: largest fit %d, chosen %d with a %.0f%% margin, %d probes in %.1fs, budget %d MiB%n",
                r.largestFit(), r.micro(), run.batchMargin() * 100, r.probesRun(), r.seconds(), budget >> 20);
        return new Decision(BatchChoice.forMicro(run.rankBatch(), r.micro(), "tuned"), key, share);
    }
}
