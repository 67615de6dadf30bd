package dev.goodput.trainer.run;

import dev.goodput.api.spec.Durations;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.api.spec.Quantities;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.spec.TrainingSpec;
import dev.goodput.trainer.config.BatchChoice;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.device.DeviceSelection;
import dev.goodput.trainer.optim.LrSchedule;
import dev.goodput.trainer.optim.OptimizerSettings;
import dev.goodput.trainer.precision.LossScaler;
import dev.goodput.trainer.tune.TuningKey;
import dev.goodput.trainer.data.DataShard;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * The one place where the trainer's defaults live: turns a manifest and what the machine offers into a {@link RunPlan}.
 * A pure function of its arguments (the memory sizes come in as suppliers), so every rule can be tested in a table.
 */
public final class RunPlanner {
    /** Time between SIGTERM and SIGKILL when neither the pod nor the manifest says (Kubernetes' default). */
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
    public static final long DEFAULT_SEED = 42;
    public static final int DEFAULT_KEEP = 3;
    static final int DEFAULT_LOADER_WORKERS = 1;
    static final int DEFAULT_PREFETCH = 4;
    /** The evaluator's largest batch: it evaluates at the micro-batch, which bounds its memory, up to this. */
    static final int EVAL_BATCH_CAP = 1000;

    private RunPlanner() {}

    /** What the machine offers the planner. */
    /**
     * @param localProcesses trainer processes sharing this machine's (container's) host memory, each with its own GPU
     *                       when there are GPUs
     */
    public record Machine(int cpus, DeviceSelection devices, LongSupplier gpuMemoryBytes, LongSupplier containerLimitBytes,
                          int localProcesses) {
        public Machine(int cpus, DeviceSelection devices, LongSupplier gpuMemoryBytes, LongSupplier containerLimitBytes) {
            this(cpus, devices, gpuMemoryBytes, containerLimitBytes, 1);
        }
    }

    /**
     * The grace period: the pod's terminationGracePeriodSeconds (the operator passes it), else the manifest's
     * spec.checkpoint.gracePeriodSeconds, else Kubernetes' 30 s. Known before anything else, so signals are handled
     * from the first moment.
     */
    public static Duration grace(Duration fromPod, TrainingJobSpec spec) {
        if (fromPod != null) return fromPod;
        Long manifest = spec.checkpoint == null ? null : spec.checkpoint.gracePeriodSeconds == null ? null
                : spec.checkpoint.gracePeriodSeconds.longValue();
        return manifest != null ? Duration.ofSeconds(manifest) : DEFAULT_GRACE;
    }

    public static RunPlan plan(TrainingJobSpec spec, Duration graceFromPod, Machine machine) {
        return plan(spec, graceFromPod, machine, DataShard.WHOLE);
    }

    /**
     * @param shard this process's rank among the processes that train the model together; each trains an equal share
     *              of the global batch, so the global batch must divide among them
     */
    public static RunPlan plan(TrainingJobSpec spec, Duration graceFromPod, Machine machine, DataShard shard) {
        if (spec.training.globalBatchSize % shard.ranks() != 0) {
            throw new IllegalArgumentException("spec.training.globalBatchSize: " + spec.training.globalBatchSize
                    + " does not divide among the " + shard.ranks() + " processes of this run (WORLD_SIZE): each trains"
                    + " an equal share of every batch; use a multiple of " + shard.ranks());
        }
        TrainingSpec t = spec.training;
        List<String> notes = new ArrayList<>();
        DeviceSelection devices = machine.devices();
        if (devices.note() != null) notes.add(devices.note());
        if (devices.devices().size() > 1 && !ModelSpec.builtIn(spec.model.architecture)) {
            // In-process replicas are rebuilt by the trainer's own builder; a pretrained or user's model is not.
            notes.add(spec.model.architecture + " trains on one device: using " + devices.devices().get(0) + " of "
                    + devices.devices().size());
            devices = new DeviceSelection(List.of(devices.devices().get(0)), devices.note());
        }
        String precision = precision(t.precision, devices.gpu());
        if (devices.devices().size() > 1 && "fp16".equals(precision)) {
            notes.add("fp16 with several devices is not supported yet: training in fp32 across " + devices.devices().size() + " devices");
            precision = "fp32";
        }
        if ("fp16".equals(precision) && !ModelSpec.builtIn(spec.model.architecture)) {
            // The fp16 path converts the parameters and casts the inputs: neither applies to token ids or to a
            // module whose parameters the trainer does not build.
            notes.add("fp16 is not yet supported for " + spec.model.architecture + ": training in fp32");
            precision = "fp32";
        }
        if ("fp16".equals(precision) && !devices.gpu()) {
            notes.add("precision fp16 on CPU: correct but slower than fp32 (libtorch has few fp16 CPU kernels)");
        }
        return new RunPlan(spec.model, spec.data, grace(graceFromPod, spec), t.seed == null ? DEFAULT_SEED : t.seed,
                t.threads != null ? t.threads : Math.max(1, machine.cpus()), machine.cpus(), devices, precision,
                optimizer(t.optimizer), memoryBudget(spec, machine), t.batchSize == null ? "auto" : t.batchSize,
                t.globalBatchSize, t.batchMargin == null ? TuningKey.DEFAULT_MARGIN : t.batchMargin,
                t.initialLossScale == null ? LossScaler.INITIAL : t.initialLossScale,
                spec.checkpoint.keep == null ? DEFAULT_KEEP : spec.checkpoint.keep,
                spec.data.loader.workers != null ? spec.data.loader.workers : DEFAULT_LOADER_WORKERS,
                spec.data.loader.prefetch != null ? spec.data.loader.prefetch : DEFAULT_PREFETCH, EVAL_BATCH_CAP,
                spec.target == null ? "accuracy" : spec.target.metric, Boolean.TRUE.equals(t.gradientCheckpointing),
                t.emaDecay, List.copyOf(notes), shard);
    }

    /** auto = fp16 mixed on CUDA, fp32 on CPU (where libtorch's fp16 kernels are slower than fp32). */
    static String precision(String requested, boolean gpu) {
        if (requested == null || "auto".equals(requested)) return gpu ? "fp16" : "fp32";
        return requested;
    }

    /** PyTorch's defaults: AdamW betas (0.9, 0.999), eps 1e-8, weight decay 0.01; SGD momentum 0.9, no decay. */
    static OptimizerSettings optimizer(TrainingSpec.OptimizerSpec o) {
        boolean adamw = !"sgd".equals(o.name);
        return new OptimizerSettings(adamw ? "adamw" : "sgd", o.beta1 == null ? 0.9 : o.beta1,
                o.beta2 == null ? 0.999 : o.beta2, o.eps == null ? 1e-8 : o.eps, o.momentum == null ? 0.9 : o.momentum,
                Boolean.TRUE.equals(o.nesterov), o.weightDecay != null ? o.weightDecay : adamw ? 0.01 : 0);
    }

    /**
     * On a GPU the budget is the device's memory; on CPU the container's (or what the manifest says), divided among the
     * trainer processes that share it.
     */
    static MemoryBudget memoryBudget(TrainingJobSpec spec, Machine machine) {
        TrainingSpec t = spec.training;
        if (machine.devices().gpu()) {
            if (t.memoryBudget != null) return new MemoryBudget(Quantities.bytes(t.memoryBudget), "spec.training.memoryBudget");
            return new MemoryBudget(machine.gpuMemoryBytes().getAsLong(), "the GPU's memory");
        }
        MemoryBudget host = t.memoryBudget != null ? new MemoryBudget(Quantities.bytes(t.memoryBudget), "spec.training.memoryBudget")
                : spec.resources != null && spec.resources.memory != null
                ? new MemoryBudget(Quantities.bytes(spec.resources.memory), "spec.resources.memory")
                : new MemoryBudget(machine.containerLimitBytes().getAsLong(), "the container's memory limit");
        int n = machine.localProcesses();
        return n <= 1 || !host.present() ? host
                : new MemoryBudget(host.bytes() / n, host.source() + ", shared by " + n + " processes");
    }

    /** Default warmup: 3 % of the run, at most 500 steps (enough for Adam's moments to settle). */
    public static final double WARMUP_SHARE = 0.03;

    /**
     * Pre-flight, before any tuning: an explicit warmup that is not shorter than the run the spec plans (its epochs and
     * maxSteps over the data at the spec's global batch) would never reach the peak learning rate, so the whole run
     * would train at a fraction of it. Refused, naming the field and the run's length; a run with only a time budget or
     * a target has no planned length and is not checked.
     */
    public static void checkHorizon(TrainingJobSpec spec, int trainExamples) {
        TrainingSpec t = spec.training;
        if (t.schedule == null || t.schedule.warmupSteps == null || t.globalBatchSize == null) {
            return;
        }
        long perEpoch = Math.max(1, trainExamples / t.globalBatchSize);
        Long total = plannedSteps(t, perEpoch);
        if (total != null && t.schedule.warmupSteps >= total) {
            String run = (t.epochs != null ? t.epochs + " epoch(s) of " + perEpoch + " steps (" + trainExamples
                    + " examples at globalBatchSize " + t.globalBatchSize + ")" : "") + (t.epochs != null && t.maxSteps != null
                    ? ", at most " : "") + (t.maxSteps != null ? "maxSteps " + t.maxSteps : "");
            throw new IllegalArgumentException("spec.training.schedule.warmupSteps: " + t.schedule.warmupSteps
                    + " warmup steps in a run of " + total + " steps (" + run + "): the learning rate would never reach"
                    + " its peak; set warmupSteps below " + total + ", or leave it out (default: "
                    + Math.round(WARMUP_SHARE * 100) + " % of the run, at most 500 steps)");
        }
    }

    /** The run's length in optimizer steps from epochs and maxSteps (the smaller); null with neither. */
    static Long plannedSteps(TrainingSpec t, long stepsPerEpoch) {
        Long total = t.epochs == null ? null : t.epochs * stepsPerEpoch;
        if (t.maxSteps != null) total = total == null ? t.maxSteps : Math.min(total, t.maxSteps);
        return total;
    }

    /**
     * The steps once the batch is chosen. The peak learning rate scales linearly with the global batch from
     * spec.training.referenceBatchSize (Goyal et al.), so a batch the tuner changed keeps the recipe's dynamics.
     */
    public static TrainingPlan steps(TrainingJobSpec spec, RunPlan run, int trainExamples, BatchChoice batch) {
        TrainingSpec t = spec.training;
        int global = batch.micro() * batch.accumulation() * run.shard().ranks();
        long perEpoch = Math.max(1, trainExamples / global);
        Long total = plannedSteps(t, perEpoch);
        int reference = t.referenceBatchSize == null ? t.globalBatchSize : t.referenceBatchSize;
        double peak = t.optimizer.lr * global / reference;
        long warmup = t.schedule.warmupSteps != null ? t.schedule.warmupSteps
                : total == null ? Math.min(500, perEpoch / 10) : Math.min(500, Math.round(total * WARMUP_SHARE));
        if ("onecycle".equals(t.schedule.name) && t.schedule.warmupSteps == null && total != null) {
            warmup = Math.round(total * 0.3);
        }
        // A decay schedule needs a horizon; with only a time budget or a target there is none, so hold the peak.
        String kind = total == null ? "constant" : t.schedule.name;
        double minRatio = t.schedule.minLrRatio != null ? t.schedule.minLrRatio : "onecycle".equals(kind) ? 4e-5 : 0.01;
        return new TrainingPlan(global, batch.micro(), batch.accumulation(), perEpoch, total, t.epochs,
                t.maxDuration == null ? null : Durations.parse(t.maxDuration),
                new LrSchedule(kind, peak, warmup, total == null ? 0 : total, minRatio),
                t.gradientClipNorm, run.seed(), run.threads(), run.loaderWorkers(), run.prefetch(),
                spec.target == null ? null : spec.target.evalEverySteps,
                Durations.parse(spec.checkpoint.interval == null ? "5m" : spec.checkpoint.interval),
                run.checkpointKeep(), run.shard());
    }
}
