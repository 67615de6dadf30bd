package dev.goodput.trainer;

import dev.goodput.api.status.TrainerPhase;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.trainer.checkpoint.CheckpointCoordinator;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.config.BatchChoice;
import dev.goodput.trainer.config.ConfigRefusal;
import dev.goodput.trainer.config.RunSettings;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.console.ConsoleProgress;
import dev.goodput.trainer.console.Durations;
import dev.goodput.trainer.console.SummaryTable;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.device.DeviceSelection;
import dev.goodput.trainer.loop.DataParallelGradients;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.loop.Evaluator;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.loop.StoppingRule;
import dev.goodput.trainer.loop.TrainingLoop;
import dev.goodput.trainer.metrics.StatusServer;
import dev.goodput.trainer.metrics.TrainerMetrics;
import dev.goodput.trainer.runtime.NativeHeap;
import dev.goodput.trainer.model.ModelFactory;
import dev.goodput.trainer.optim.AdamW;
import dev.goodput.trainer.optim.Optimizer;
import dev.goodput.trainer.optim.Sgd;
import dev.goodput.trainer.preemption.PreemptionDetector;
import dev.goodput.trainer.report.RunReportListener;
import dev.goodput.trainer.tune.BatchSizeTuner;
import dev.goodput.trainer.tune.MemoryMeter;
import dev.goodput.trainer.tune.ModelFootprint;
import dev.goodput.trainer.tune.MemoryProbe;
import dev.goodput.trainer.tune.TuningCache;
import dev.goodput.trainer.tune.TuningKey;
import java.util.OptionalInt;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.api.spec.Quantities;
import dev.goodput.trainer.precision.HalfPrecisionModel;
import dev.goodput.trainer.precision.LossScaler;
import dev.goodput.trainer.precision.MixedPrecisionOptimizer;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import dev.goodput.trainer.loop.ProgressListener;
import dev.goodput.trainer.loop.ProgressListeners;
import java.util.Optional;

/**
 * One run of the trainer, from a validated manifest to an exit code: check the data, resume from the newest good
 * checkpoint, train, save, report. The order matters: nothing touches a checkpoint before the config and data are
 * known to be good, so a bad manifest can never damage a job's saved progress.
 */
public final class TrainerRun {
    /** Default time between SIGTERM and SIGKILL when the manifest does not say (Kubernetes' default). */
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
    /** Safety margin below the largest micro-batch that fit, against memory that varies between steps. */
    static final int MAX_PROBES = 8;
    /** The share of a CPU memory budget the tuned batch's measured peak may use for the native heap to keep freed memory. */
    static final double RETAIN_SHARE = 0.7;
    /** The tuned batch's measured peak as a share of the memory budget, when this run tuned it. */
    private double tunedPeakShare = Double.MAX_VALUE;
    /** Grace left below which a preempted run skips its report (rendering the charts takes about 2 s). */
    static final Duration REPORT_GRACE = Duration.ofSeconds(8);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final RunSettings settings;
    private final PrintStream out;
    private final TrainerMetrics metrics = new TrainerMetrics();
    private final List<ProgressListener> listeners = new ArrayList<>();
    private RunProgress progress;
    private TrainingLoop.Outcome outcome;
    private PreemptionDetector preemption;
    private String tuningKey;
    private RunReportListener runReport;
    private volatile int metricsPort = -1;

    public TrainerRun(RunSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Also tell {@code listener} about steps, evaluations and the end (tests, the run report). */
    public TrainerRun addListener(ProgressListener listener) {
        listeners.add(listener);
        return this;
    }

    public RunProgress progress() {
        return progress;
    }

    /** The port /metrics and /progress are served on while the run lasts, or -1. */
    public int metricsPort() {
        return metricsPort;
    }

    public TrainingLoop.Outcome outcome() {
        return outcome;
    }

    public int run() {
        TrainingJobSpec spec = settings.manifest().spec;
        PreemptionDetector preemption = new PreemptionDetector(settings.gracePeriod() != null ? settings.gracePeriod()
                : spec.checkpoint.gracePeriodSeconds != null ? Duration.ofSeconds(spec.checkpoint.gracePeriodSeconds)
                : DEFAULT_GRACE);
        if (settings.handleSignals()) preemption.install();
        this.preemption = preemption;
        preflight(() -> DataSource.checkReadable(spec.data));
        TrainingSpec t = spec.training;

        long loadStart = System.nanoTime();
        DataSource.Splits data;
        try {
            data = DataSource.load(spec.data);
        } catch (IOException e) {
            // The files are there but reading them failed: possibly transient (a network volume), so retried.
            throw new IllegalStateException("cannot read the data at spec.data.path " + spec.data.path + ": " + e.getMessage(), e);
        }
        preflight(() -> TrainingPlan.checkHorizon(spec, data.train().size()));
        out.printf(Locale.ROOT, "data: %d train / %d test examples of %dx%dx%d, %d classes (%.1fs)%n",
                data.train().size(), data.test().size(), data.train().channels(), data.train().height(),
                data.train().width(), data.train().classes(), (System.nanoTime() - loadStart) / 1e9);

        CheckpointStore store = new CheckpointStore(settings.jobCheckpoints(), spec.checkpoint.keep == null ? 3 : spec.checkpoint.keep);
        Optional<CheckpointStore.Loaded> resume;
        try {
            resume = store.loadLatest();
        } catch (IOException e) {
            throw new IllegalStateException("cannot resume: " + e.getMessage(), e);
        }

        int cpus = Runtime.getRuntime().availableProcessors();
        Engine engine = Engine.getEngine("PyTorch");
        JniUtils.setNumThreads(t.threads != null ? t.threads : Math.max(1, cpus));
        DeviceSelection devices = DeviceSelection.select(spec.resources == null ? null : spec.resources.gpus,
                System.getenv("CUDA_VISIBLE_DEVICES"), engine.getGpuCount());
        if (devices.note() != null) out.println(devices.note());
        // What the pod holds, for per-node prices: the GPUs it was given are billed whether or not the engine sees them;
        // the JVM's CPU count honours the container's limit (cgroup cpu.max).
        metrics.cpus.set(cpus);
        metrics.gpus.set(spec.resources != null && spec.resources.gpus != null ? spec.resources.gpus
                : devices.gpu() ? devices.devices().size() : 0);
        String device = devices.type();
        long seed = t.seed == null ? 42 : t.seed;
        progress = new RunProgress(seed, settings.attempt(), ManagementFactory.getRuntimeMXBean().getStartTime());
        progress.metricName(spec.target == null ? "accuracy" : spec.target.metric);

        try (NDManager manager = NDManager.newBaseManager(devices.devices().get(0), engine.getEngineName());
             StatusServer server = startServer()) {
            Shape example = new Shape(data.train().channels(), data.train().height(), data.train().width());
            // Pre-flight: a model that cannot fit its memory at any batch size is refused before it is built or tuned.
            MemoryBudget budget = memoryBudget(spec, devices);
            preflight(() -> ModelFootprint.of(spec.model, example, data.train().classes(), t.optimizer)
                    .refuseBeyond(spec.model, budget.bytes(), budget.source()));
            BatchChoice batch = resume.map(l -> l.snapshot().state().tunedBatch())
                    .filter(tb -> tb.device == null || tb.device.equals(device))
                    .map(tb -> {
                        tuningKey = tb.key;
                        return new BatchChoice(tb.micro, tb.accumulation, "checkpoint");
                    })
                    .orElseGet(() -> chooseBatch(spec, manager, example, data.train().classes(), devices, budget.bytes()));
            settleNativeHeap(devices.gpu(), batch.source());
            if (batch.global() != t.globalBatchSize && !"checkpoint".equals(batch.source())) {
                out.printf("globalBatchSize %d is not a multiple of micro-batch %d: using %d%n", t.globalBatchSize, batch.micro(), batch.global());
            }
            TrainingPlan plan = preflight(() -> TrainingPlan.resolve(spec, data.train().size(), batch, cpus));
            progress.totalSteps(plan.totalSteps());
            TunedBatch tb = new TunedBatch();
            tb.micro = plan.microBatch();
            tb.accumulation = plan.accumulation();
            tb.global = plan.globalBatch();
            tb.lr = plan.schedule().peak();
            tb.source = batch.source();
            tb.device = device;
            tb.key = tuningKey;
            progress.tunedBatch(tb);
            // Tuning drew from libtorch's generator; initialisation must not depend on whether it ran.
            engine.setRandomSeed((int) plan.seed());
            ProcessMemory.resetPeak();
            try (CheckpointCoordinator checkpoints = new CheckpointCoordinator(store, plan.checkpointInterval(), metrics,
                    this::onSaved, f -> progress.checkpointFailed(f.consecutive(), f.message()), out::println)) {
                return train(spec, data, plan, manager, server, checkpoints, resume, preemption, tb, devices);
            }
        }
    }

    /** Pre-flight: a manifest that cannot run is refused (exit 78, no retry) rather than failed. */
    private static <T> T preflight(java.util.function.Supplier<T> check) {
        try {
            return check.get();
        } catch (IllegalArgumentException e) {
            throw new ConfigRefusal(e.getMessage(), e);
        }
    }

    private static void preflight(Runnable check) {
        preflight(() -> {
            check.run();
            return null;
        });
    }

    private int train(TrainingJobSpec spec, DataSource.Splits data, TrainingPlan plan, NDManager manager, StatusServer server,
                      CheckpointCoordinator checkpoints, Optional<CheckpointStore.Loaded> resume,
                      PreemptionDetector preemption, TunedBatch tb, DeviceSelection devices) {
        TrainingSpec t = spec.training;
        Block block = ModelFactory.build(spec.model, data.train().classes());
        block.initialize(manager, DataType.FLOAT32, new Shape(1, data.train().channels(), data.train().height(), data.train().width()));
        String precision = precision(t.precision, devices.gpu());
        if (devices.devices().size() > 1 && "fp16".equals(precision)) {
            out.println("fp16 with several devices is not supported yet: training in fp32 across " + devices.devices().size() + " devices");
            precision = "fp32";
        }
        Optimizer optimizer = optimizer(t, manager);
        LossScaler scaler = null;
        if ("fp16".equals(precision)) {
            optimizer = new MixedPrecisionOptimizer(optimizer, HalfPrecisionModel.convert(block.getParameters()));
            scaler = new LossScaler(t.initialLossScale == null ? LossScaler.INITIAL : t.initialLossScale, 2000);
            if (!devices.gpu()) {
                out.println("precision fp16 on CPU: correct but slower than fp32 (libtorch has few fp16 CPU kernels)");
            }
        }
        if (resume.isPresent()) {
            CheckpointStore.Loaded l = resume.get();
            for (String s : l.skipped()) out.println("checkpoint skipped: " + s);
            if (l.latestOverridden() != null) out.println("checkpoint: " + l.latestOverridden());
            ModelState.restore(l.snapshot(), block.getParameters(), optimizer, manager);
            progress.restore(l.snapshot().state());
            if (scaler != null && progress.lossScaleValue() != null) {
                scaler.restore(progress.lossScaleValue(), progress.lossScaleGoodSteps(), progress.skippedSteps());
            }
            progress.tunedBatch(tb);
            onSaved(new CheckpointStore.Saved(l.snapshot().state().step(), l.path(), 0, 0,
                    CheckpointStore.parametersSha256(l.path()), List.of()));
            out.printf("resumed from %s (step %d, epoch %d)%n", l.path(), l.snapshot().state().step(), l.snapshot().state().epoch() + 1);
        }
        out.printf(Locale.ROOT, "model %s: %,d parameters | %s | batch %d = %d x %d | lr %.2e %s | %d threads | %s%n",
                spec.model.architecture, parameterCount(block), precision, plan.globalBatch(), plan.microBatch(), plan.accumulation(),
                plan.schedule().peak(), plan.schedule().kind(), plan.threads(),
                server == null ? "no metrics port" : "metrics on :" + server.port());

        Normalization norm = Normalization.of(data.train());
        BatchAssembler train = new BatchAssembler(data.train(), norm, spec.data.augment, plan.seed());
        // Inference needs less memory per example than training, so the tuned micro-batch bounds it safely.
        Evaluator evaluator = new Evaluator(new BatchAssembler(data.test(), norm, null, plan.seed()),
                Math.min(1000, Math.max(64, plan.microBatch())),
                scaler == null ? DataType.FLOAT32 : DataType.FLOAT16);
        listeners.add(0, new ConsoleProgress(out, settings.progressBar(), 10));
        listeners.add(1, runReport = new RunReportListener(spec, settings.manifest().metadata.name, progress.report()));
        ProgressListener all = new ProgressListeners(listeners);
        List<NDManager> replicaManagers = new ArrayList<>();
        GradientSource gradients = null;
        if (devices.devices().size() > 1) {
            replicaManagers.add(manager);
            for (int i = 1; i < devices.devices().size(); i++) replicaManagers.add(NDManager.newBaseManager(devices.devices().get(i)));
            gradients = new DataParallelGradients(block, () -> ModelFactory.build(spec.model, data.train().classes()),
                    devices.devices(), replicaManagers, new Shape(1, data.train().channels(), data.train().height(), data.train().width()));
            out.println("data parallel over " + devices.devices() + ": micro-batch " + plan.microBatch() + " split across them");
        }
        TrainingLoop loop = new TrainingLoop(manager, block, optimizer, t.optimizer.name, plan, train, evaluator,
                new StoppingRule(spec.target), checkpoints, preemption, metrics, progress, all, scaler, gradients);
        try {
            outcome = loop.run();
        } finally {
            for (int i = 1; i < replicaManagers.size(); i++) replicaManagers.get(i).close();
        }
        all.onFinish(progress.report());
        return conclude(outcome, plan, checkpoints);
    }

    /** A memory budget in bytes (0 or less: none) and where it comes from, as a user would find it. */
    record MemoryBudget(long bytes, String source) {}

    /** On a GPU the budget is the device's memory; on CPU the container's (or what the manifest says). */
    static MemoryBudget memoryBudget(TrainingJobSpec spec, DeviceSelection devices) {
        TrainingSpec t = spec.training;
        if (t.memoryBudget != null) return new MemoryBudget(Quantities.bytes(t.memoryBudget), "spec.training.memoryBudget");
        if (devices.gpu()) return new MemoryBudget(MemoryMeter.cudaTotal(devices.devices().get(0)), "the GPU's memory");
        if (spec.resources != null && spec.resources.memory != null) {
            return new MemoryBudget(Quantities.bytes(spec.resources.memory), "spec.resources.memory");
        }
        return new MemoryBudget(ProcessMemory.containerLimitBytes(), "the container's memory limit");
    }

    /**
     * batchSize: auto. With a memory budget (spec.training.memoryBudget, else resources.memory, else the container's
     * limit) the tuner probes real steps for the largest micro-batch that fits; without one the global batch runs in
     * one pass.
     */
    private BatchChoice chooseBatch(TrainingJobSpec spec, NDManager manager, Shape example, int classes, DeviceSelection devices,
            long budget) {
        TrainingSpec t = spec.training;
        if (!"auto".equals(t.batchSize)) return BatchChoice.fixed(t.globalBatchSize, t.batchSize);
        ai.djl.Device first = devices.devices().get(0);
        MemoryMeter meter = devices.gpu() ? MemoryMeter.cuda(first) : MemoryMeter.host();
        if (budget <= 0) {
            out.println("batchSize auto: no memory budget (memoryBudget, resources.memory or a container limit); one pass per global batch");
            return BatchChoice.fixed(t.globalBatchSize, "auto");
        }
        double margin = t.batchMargin == null ? TuningKey.DEFAULT_MARGIN : t.batchMargin;
        TuningKey key = TuningKey.of(spec.model, example, precision(t.precision, devices.gpu()), devices.type(), budget, margin);
        tuningKey = key.text();
        TuningCache cache = TuningCache.fromEnvironment();
        OptionalInt cached = cache == null ? OptionalInt.empty() : cache.lookup(key);
        if (cached.isPresent()) {
            out.println("tuning: micro-batch " + cached.getAsInt() + " from the tuning cache (key " + tuningKey + "), no probes");
            return BatchChoice.forMicro(t.globalBatchSize, cached.getAsInt(), "cache");
        }
        progress.phase(TrainerPhase.Tuning);
        // Probes measure the resident set: freed memory must leave it between them (runtime/NativeHeap), or a probe
        // would count what a larger one before it left, and one over the budget would keep the run over it.
        NativeHeap.returnFreedMemory();
        BatchSizeTuner.Result r = new BatchSizeTuner(budget, margin, MAX_PROBES)
                .tune(t.globalBatchSize, new MemoryProbe(manager, spec.model, example, classes, 3, meter));
        progress.tuned(r.seconds());
        tunedPeakShare = r.probes().stream().filter(p -> p.fits() && !p.predicted() && p.micro() == r.largestFit())
                .mapToDouble(p -> (double) p.peakBytes() / budget).findFirst().orElse(Double.MAX_VALUE);
        for (BatchSizeTuner.Probe p : r.probes()) {
            out.printf("tuning: micro-batch %4d %s (%s)%n", p.micro(), p.fits() ? "fits" : "does not fit", p.note());
        }
        out.printf(Locale.ROOT, "tuning: largest fit %d, chosen %d with a %.0f%% margin, %d probes in %.1fs, budget %d MiB%n",
                r.largestFit(), r.micro(), margin * 100, r.probesRun(), r.seconds(), budget >> 20);
        return BatchChoice.forMicro(t.globalBatchSize, r.micro(), "tuned");
    }

    /**
     * Keeping freed memory (runtime/NativeHeap) costs resident memory beyond the probes' peaks, since each thread's
     * arena keeps its own: under a CPU memory budget it is kept only where the tuned batch's measured peak leaves room.
     * Otherwise training runs in glibc's default mode: freed memory leaves the resident set, at the cost of page faults.
     */
    private void settleNativeHeap(boolean gpu, String source) {
        boolean cpuBudget = !gpu && tuningKey != null; // a key exists only for a batch tuned to a budget
        if (!cpuBudget || ("tuned".equals(source) && tunedPeakShare <= RETAIN_SHARE)) {
            NativeHeap.retainFreedMemory();
            return;
        }
        String why = "tuned".equals(source)
                ? String.format(Locale.ROOT, "the tuned batch's peak is %.0f%% of the budget, over %.0f%%",
                        tunedPeakShare * 100, RETAIN_SHARE * 100)
                : "the batch was tuned to a CPU memory budget; its peak is unknown from the " + source;
        if (NativeHeap.returnFreedMemory()) {
            out.println("native heap: freed memory goes back to the kernel (" + why + ")");
        }
    }

    /**
     * The exit code and the report. A run is only finished, or preempted, once its last step is durable: a save that
     * failed on SIGTERM, at the end, or repeatedly during the run exits {@link ExitCodes#CHECKPOINT_FAILED}, never 0
     * or 75, so neither the operator nor a user mistakes lost work for a clean stop.
     */
    private int conclude(TrainingLoop.Outcome outcome, TrainingPlan plan, CheckpointCoordinator checkpoints) {
        boolean preempted = outcome.reason() == TrainingLoop.Reason.PREEMPTED;
        boolean durable = outcome.checkpointed();
        int code = !durable ? ExitCodes.CHECKPOINT_FAILED : preempted ? ExitCodes.PREEMPTED : ExitCodes.FINISHED;
        TrainerReport r = progress.report();
        r.phase = !durable ? TrainerPhase.Failed : preempted ? TrainerPhase.Preempted : TrainerPhase.Succeeded;
        r.exitCode = code;
        r.peakMemoryBytes = ProcessMemory.peakResidentBytes();
        if (outcome.finalEvaluation() != null) {
            r.testAccuracy = outcome.finalEvaluation().accuracy();
            r.testLoss = outcome.finalEvaluation().loss();
        }
        String result = switch (outcome.reason()) {
            case TARGET_REACHED -> "target reached";
            case BUDGET_SPENT -> "budget spent";
            case PATIENCE_EXHAUSTED -> "stopped: no improvement within patience";
            case PREEMPTED -> "preempted (" + preemption.signalName() + "); checkpoint at step " + progress.step();
            case CHECKPOINTS_FAILING -> "stopped: " + CheckpointCoordinator.MAX_CONSECUTIVE_FAILURES + " checkpoint saves in a row failed";
        };
        r.message = durable ? result
                : outcome.reason() == TrainingLoop.Reason.CHECKPOINTS_FAILING ? result + "; " + checkpoints.lastError()
                : (preempted ? "preempted (" + preemption.signalName() + ")" : result) + ", but " + checkpoints.lastError();
        writeTermination(settings.terminationLog(), r);
        // From here the exit code is decided: if the grace period runs out while the process winds down, it is still
        // this one, not 143, since the checkpoint it speaks of is already durable (or already known to have failed).
        preemption.settle(code);
        if (!preempted) printSummary(r, outcome, plan);
        out.println("goodput: " + r.message + "; exit " + code);
        // After SIGTERM the report is only rendered with time to spare (a few seconds, more on a loaded node); should
        // the grace period end while it renders, the exit code is still the settled one.
        boolean time = !preempted || preemption.remaining().compareTo(REPORT_GRACE) > 0;
        if (runReport != null && time) {
            runReport.writeTo(settings.reportDir() != null ? settings.reportDir() : settings.jobCheckpoints(),
                    r, progress.history(), metrics, out);
        }
        return code;
    }

    private void printSummary(TrainerReport r, TrainingLoop.Outcome outcome, TrainingPlan plan) {
        double share = outcome.dataWaitShare();
        String bottleneck = share > 0.10 ? "input-bound (data wait > 10% of step time)" : "compute-bound";
        SummaryTable table = new SummaryTable()
                .row("result", r.message)
                .row("test accuracy", r.testAccuracy == null ? "-" : String.format(Locale.ROOT, "%.4f", r.testAccuracy))
                .row("test loss", r.testLoss == null ? "-" : String.format(Locale.ROOT, "%.4f", r.testLoss))
                .row("steps", String.valueOf(r.progress.step))
                .row("epochs", String.format(Locale.ROOT, "%.2f", (double) r.progress.samples / Math.max(1, plan.stepsPerEpoch() * plan.globalBatch())))
                .row("wall time (training)", Durations.human(r.trainingSeconds))
                .row("samples/s (mean)", String.format(Locale.ROOT, "%,.0f", r.progress.samples / Math.max(1e-9, r.trainingSeconds)))
                .row("time to target", r.trainingTimeToTargetSeconds == null ? "not reached" : Durations.human(r.trainingTimeToTargetSeconds))
                .row("data wait share", String.format(Locale.ROOT, "%.1f%%", share * 100))
                .row("peak memory (RSS)", String.format(Locale.ROOT, "%d MiB", r.peakMemoryBytes >> 20))
                .row("bottleneck", bottleneck)
                .row("last checkpoint", r.lastCheckpoint == null ? "-" : r.lastCheckpoint.path);
        table.print(out);
    }

    private void onSaved(CheckpointStore.Saved saved) {
        if (saved.bytes() > 0) {
            out.printf(Locale.ROOT, "checkpoint step %d: %.1f MB persisted in %.0f ms -> %s%n",
                    saved.step(), saved.bytes() / 1e6, saved.seconds() * 1000, saved.path());
        }
        CheckpointRef ref = new CheckpointRef();
        ref.step = saved.step();
        ref.path = saved.path().toString();
        ref.bytes = saved.bytes();
        ref.saveSeconds = saved.bytes() > 0 ? saved.seconds() : null; // a resume loaded it: no save was timed
        ref.parametersSha256 = saved.parametersSha256();
        ref.time = Instant.now().toString();
        progress.checkpointed(ref);
    }

    private StatusServer startServer() {
        if (settings.metricsPort() < 0) return null;
        try {
            StatusServer server = new StatusServer(settings.metricsPort(), metrics.registry(), () -> progress.report());
            metricsPort = server.port();
            return server;
        } catch (IOException e) {
            out.println("metrics port " + settings.metricsPort() + " unavailable (" + e.getMessage() + "); continuing without it");
            return null;
        }
    }

    /** auto = fp16 mixed on CUDA, fp32 on CPU (where libtorch's fp16 kernels are slower than fp32). */
    static String precision(String requested, boolean gpu) {
        if (requested == null || "auto".equals(requested)) return gpu ? "fp16" : "fp32";
        return requested;
    }

    private static Optimizer optimizer(TrainingSpec t, NDManager manager) {
        TrainingSpec.OptimizerSpec o = t.optimizer;
        double wd = o.weightDecay == null ? ("adamw".equals(o.name) ? 0.01 : 0) : o.weightDecay;
        if ("sgd".equals(o.name)) {
            return new Sgd(manager, o.momentum == null ? 0.9 : o.momentum, Boolean.TRUE.equals(o.nesterov), wd);
        }
        return new AdamW(manager, o.beta1 == null ? 0.9 : o.beta1, o.beta2 == null ? 0.999 : o.beta2,
                o.eps == null ? 1e-8 : o.eps, wd);
    }

    private static long parameterCount(Block block) {
        long n = 0;
        for (var p : block.getParameters()) {
            if (p.getValue().requiresGradient()) n += p.getValue().getArray().size();
        }
        return n;
    }

    /** The JSON exit summary; Kubernetes keeps at most 4 KiB of it, so no history goes in. */
    public static void writeTermination(Path path, TrainerReport report) {
        if (path == null) return;
        try {
            byte[] json = JSON.writeValueAsBytes(report);
            Files.write(path, json.length <= 4096 ? json : JSON.writeValueAsBytes(trimmed(report)));
        } catch (IOException e) {
            System.err.println("goodput: cannot write termination message to " + path + ": " + e.getMessage());
        }
    }

    private static TrainerReport trimmed(TrainerReport r) {
        TrainerReport t = new TrainerReport();
        t.phase = r.phase;
        t.exitCode = r.exitCode;
        t.message = r.message == null ? null : r.message.substring(0, Math.min(2000, r.message.length()));
        t.lastCheckpoint = r.lastCheckpoint;
        return t;
    }
}
