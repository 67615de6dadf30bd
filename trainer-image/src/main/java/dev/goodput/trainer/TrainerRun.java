package dev.goodput.trainer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.trainer.checkpoint.CheckpointCoordinator;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.CheckpointedStates;
import dev.goodput.trainer.config.ConfigRefusal;
import dev.goodput.trainer.config.RunSettings;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.console.ConsoleProgress;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.export.ModelExport;
import dev.goodput.trainer.export.ModelWriters;
import dev.goodput.trainer.optim.AveragedWeights;
import dev.goodput.api.status.ModelOutput;
import dev.goodput.trainer.run.Components;
import dev.goodput.trainer.model.ModelFiles;
import dev.goodput.trainer.device.DeviceSelection;
import dev.goodput.trainer.data.DataShard;
import dev.goodput.trainer.distributed.DistributedGradients;
import dev.goodput.trainer.distributed.GroupPeers;
import dev.goodput.trainer.distributed.ProcessGroup;
import dev.goodput.trainer.distributed.World;
import dev.goodput.trainer.loop.Peers;
import dev.goodput.trainer.loop.ProgressListener;
import dev.goodput.trainer.loop.ProgressListeners;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.loop.StoppingRule;
import dev.goodput.trainer.loop.TrainingLoop;
import dev.goodput.trainer.metrics.MetricsListener;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.metrics.StatusServer;
import dev.goodput.trainer.metrics.TrainerMetrics;
import dev.goodput.trainer.preemption.PreemptionDetector;
import dev.goodput.trainer.report.RunReportListener;
import dev.goodput.trainer.run.BatchPlanner;
import dev.goodput.trainer.run.CheckpointReporter;
import dev.goodput.trainer.run.ComponentAssembler;
import dev.goodput.trainer.run.Components;
import dev.goodput.trainer.run.NativeHeapPolicy;
import dev.goodput.trainer.run.RunConclusion;
import dev.goodput.trainer.run.RunPlan;
import dev.goodput.trainer.run.RunPlanner;
import dev.goodput.trainer.run.Resumption;
import dev.goodput.trainer.tune.MemoryMeter;
import dev.goodput.trainer.tune.ModelFootprint;
import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * One run of the trainer, from a validated manifest to an exit code, in the order plan, assemble, fit, conclude:
 * {@link RunPlanner} resolves every setting, {@link BatchPlanner} the batch, {@link ComponentAssembler} builds the
 * components, {@link TrainingLoop} fits, {@link RunConclusion} maps the outcome to the exit code and the reports. This
 * class only sequences them. The order matters: nothing touches a checkpoint before the config and data are known to
 * be good, so a bad manifest can never damage a job's saved progress.
 */
public final class TrainerRun {
    private final RunSettings settings;
    private final PrintStream out;
    private final TrainerMetrics metrics = new TrainerMetrics();
    private final List<ProgressListener> listeners = new ArrayList<>();
    private volatile RunProgress progress;
    private TrainingLoop.Outcome outcome;
    private volatile int metricsPort = -1;

    public TrainerRun(RunSettings settings, PrintStream out) {
        this.settings = settings;
        this.out = out;
    }

    /** Also tell {@code listener} about steps, evaluations and the end (tests). */
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
        PreemptionDetector preemption = new PreemptionDetector(RunPlanner.grace(settings.gracePeriod(), spec));
        if (settings.handleSignals()) preemption.install();
        preflight(() -> ModelFiles.checkReadable(spec.model, Boolean.TRUE.equals(spec.training.gradientCheckpointing)));
        preflight(() -> DataSource.checkReadable(spec.data));
        DataSource.Splits data = load(spec);
        preflight(() -> RunPlanner.checkHorizon(spec, data.train().size()));

        int cpus = Runtime.getRuntime().availableProcessors();
        World world = settings.world();
        Engine engine = Engine.getEngine("PyTorch");
        DeviceSelection devices = localDevice(world, DeviceSelection.select(spec.resources == null ? null : spec.resources.gpus,
                System.getenv("CUDA_VISIBLE_DEVICES"), engine.getGpuCount()));
        // Processes that share a machine share its cores: libtorch's threads are divided among them, or their
        // OpenMP threads fight over the same cores at every parallel region.
        int cores = Math.max(1, cpus / world.localSize());
        DataShard shard = new DataShard(world.rank(), world.size());
        RunPlan plan = preflight(() -> RunPlanner.plan(spec, settings.gracePeriod(), new RunPlanner.Machine(cores, devices,
                () -> MemoryMeter.cudaTotal(devices.devices().get(0)), ProcessMemory::containerLimitBytes, world.localSize()), shard));
        plan.notes().forEach(out::println);
        JniUtils.setNumThreads(plan.threads());
        // What the pod holds, for per-node prices: the GPUs it was given are billed whether or not the engine sees them;
        // the JVM's CPU count honours the container's limit (cgroup cpu.max).
        metrics.cpus.set(cpus);
        metrics.gpus.set(spec.resources != null && spec.resources.gpus != null ? spec.resources.gpus
                : devices.gpu() ? devices.devices().size() : 0);

        CheckpointStore store = new CheckpointStore(settings.jobCheckpoints(), plan.checkpointKeep());
        Resumption resume = Resumption.find(store);
        long processStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        RunProgress progress = new RunProgress(settings.attempt(), processStart);
        progress.metricName(plan.metricName());
        this.progress = progress;

        try (NDManager manager = NDManager.newBaseManager(devices.devices().get(0), engine.getEngineName());
             StatusServer server = startServer()) {
            // Pre-flight: a model that cannot fit its memory at any batch size is refused before it is built or tuned.
            Shape example = new Shape(data.train().channels(), data.train().height(), data.train().width());
            preflight(() -> ModelFootprint.of(spec.model, example, data.train().classes(), spec.training.optimizer)
                    .refuseBeyond(spec.model, plan.budget().bytes(), plan.budget().source()));
            BatchPlanner.Decision batch = new BatchPlanner(spec, plan, data, progress, out)
                    .choose(resume.tunedBatch(), manager);
            NativeHeapPolicy.apply(devices.gpu(), batch, out);
            if (batch.choice().global() != plan.rankBatch() && !"checkpoint".equals(batch.choice().source())) {
                out.printf("globalBatchSize %d is not a multiple of micro-batch %d%s: using %d%n", plan.globalBatch(),
                        batch.choice().micro(), world.distributed() ? " x " + world.size() + " processes" : "",
                        batch.choice().global() * world.size());
            }
            TrainingPlan steps = preflight(() -> RunPlanner.steps(spec, plan, data.train().size(), batch.choice()));
            progress.totalSteps(steps.totalSteps());
            progress.tunedBatch(batch.tunedBatch(steps, devices.type()));
            // Tuning drew from libtorch's generator; initialisation must not depend on whether it ran.
            engine.setRandomSeed((int) steps.seed());
            ProcessMemory.resetPeak();
            CheckpointReporter reporter = new CheckpointReporter(out, progress);
            try (ProcessGroup group = world.distributed() ? join(world, devices) : null;
                 CheckpointCoordinator checkpoints = new CheckpointCoordinator(store, steps.checkpointInterval(), metrics,
                    reporter, f -> progress.checkpointFailed(f.consecutive(), f.message()), out::println);
                 Components c = ComponentAssembler.assemble(plan, steps, data, manager, true, group)) {
                AttemptLog attempts = new AttemptLog(settings.attempt(), processStart,
                        spec.cost == null ? null : spec.cost.pricePerHour, progress::isTargetReached, System::currentTimeMillis);
                CheckpointedStates states = ComponentAssembler.checkpointedStates(c, plan, progress, attempts);
                resume.restore(c, states, manager, progress, reporter, out);
                // Every process built and restored the same model; rank 0's values are made everyone's regardless, as
                // DDP does, so no difference in initialisation can make the processes train different models.
                if (group != null) DistributedGradients.broadcastFromLeader(group, c.arrays().parameters());
                Peers peers = group == null ? Peers.NONE : new GroupPeers(group);
                long every = c.allParameterCount();
                // With adapters or a trainable pattern, say how much trains (BatchNorm's running statistics, which
                // never train, are not what a user froze).
                boolean frozen = spec.model.lora != null || spec.model.trainable != null;
                String trained = !frozen ? String.format(Locale.ROOT, "%,d parameters", c.parameterCount())
                        : String.format(Locale.ROOT, "%,d of %,d parameters train (%.2f%%)", c.parameterCount(), every,
                        100.0 * c.parameterCount() / every);
                out.printf(Locale.ROOT, "model %s: %s | %s | batch %d = %d x %d | lr %.2e %s%s | %d threads | %s%n",
                        spec.model.architecture, trained, plan.precision(), steps.globalBatch(), steps.microBatch(),
                        steps.accumulation(), steps.schedule().peak(), steps.schedule().kind(),
                        plan.emaDecay() == null ? "" : " | evaluating the weights' EMA (decay " + plan.emaDecay() + ")",
                        steps.threads(),
                        server == null ? "no metrics port" : "metrics on :" + server.port());
                if (world.distributed()) {
                    out.printf(Locale.ROOT, "data parallel: rank %d of %d (c10d, %s), %d examples of each global batch of %d%n",
                            world.rank(), world.size(), group.backend(), plan.rankBatch(), steps.globalBatch());
                }
                if (devices.devices().size() > 1) {
                    out.println("data parallel over " + devices.devices() + ": micro-batch " + steps.microBatch() + " split across them");
                }
                RunReportListener report = new RunReportListener(spec, settings.manifest().metadata.name, progress.report());
                List<ProgressListener> all = new ArrayList<>(List.of(new ConsoleProgress(out, settings.progressBar(), 10),
                        new MetricsListener(metrics, manager.getDevice()), report));
                all.addAll(listeners);
                ProgressListener observers = new ProgressListeners(all);
                TrainingLoop loop = new TrainingLoop(new TrainingLoop.Parts(manager, c.block(), c.arrays(), c.parameterStore(), c.step(),
                        c.optimizer(), c.scaler(), c.train(), c.evaluator()), steps,
                        new StoppingRule(spec.target), checkpoints, preemption, progress, states, observers, peers);
                outcome = loop.run();
                if (world.leader() && outcome.reason() != TrainingLoop.Reason.PREEMPTED && outcome.checkpointed()) {
                    exportModel(spec, c, data, progress);
                }
                observers.onFinish(progress.report());
                // The report is the leader's: the others trained the same steps and would write the same files.
                return new RunConclusion(new RunConclusion.Destinations(settings.terminationLog(), !world.leader() ? null
                        : settings.reportDir() != null ? settings.reportDir() : settings.jobCheckpoints()),
                        out, preemption, progress, metrics, report, attempts).conclude(outcome, steps, checkpoints);
            }
        }
    }

    /**
     * The trained model as the job's output (status.model): written once training has ended and its last checkpoint
     * is durable. A failure to write it is reported and leaves the checkpoint, which holds the same weights, as the
     * result; it does not turn a finished run into a failed one.
     */
    private void exportModel(TrainingJobSpec spec, Components c, DataSource.Splits data, RunProgress progress) {
        try {
            ModelOutput written;
            // With spec.training.emaDecay the model written is the average, the one every evaluation measured.
            try (AveragedWeights.Swap averaged = AveragedWeights.inPlaceOfWeights(c.optimizer())) {
                written = ModelExport.write(settings.jobCheckpoints(),
                        ModelWriters.forRun(spec.model, c, data.train(), progress.step()), progress.step());
            }
            progress.model(written);
            out.printf(Locale.ROOT, "model: %s (%s, %,d bytes)%n", written.path, written.format, written.bytes);
        } catch (IOException | RuntimeException e) {
            out.println("goodput: warning: the trained model was not written (" + e.getMessage()
                    + "); the last checkpoint holds its weights");
        }
    }

    /**
     * Rendezvous with the other processes. Rank 0 serves the store; the others retry until it answers, so the
     * processes may start in any order; none of them gets past this line until all have arrived, or the timeout.
     */
    private ProcessGroup join(World world, DeviceSelection devices) {
        out.printf(Locale.ROOT, "data parallel: rank %d of %d joining %s (timeout %ds)%n", world.rank(), world.size(),
                world.rendezvousFile() != null ? "through " + world.rendezvousFile() : world.masterAddr() + ":" + world.masterPort(),
                world.timeout().toSeconds());
        ProcessGroup group = ProcessGroup.join(world, System.getenv("GLOO_SOCKET_IFNAME"),
                devices.gpu() ? devices.devices().get(0).getDeviceId() : -1);
        out.println("data parallel: joined, backend " + group.backend());
        return group;
    }

    /**
     * When several processes share a machine's GPUs (LOCAL_WORLD_SIZE > 1, torchrun's one process per GPU), each takes
     * the one at its local rank; one process per pod keeps all of the pod's GPUs, as replicas inside the process.
     */
    private static DeviceSelection localDevice(World world, DeviceSelection devices) {
        if (world.localSize() <= 1 || devices.devices().size() <= 1) return devices;
        return new DeviceSelection(List.of(devices.devices().get(world.localRank() % devices.devices().size())), devices.note());
    }

    private DataSource.Splits load(TrainingJobSpec spec) {
        long t0 = System.nanoTime();
        DataSource.Splits data;
        try {
            data = DataSource.load(spec.data, spec.model.pretrained);
        } catch (IOException e) {
            // The files are there but reading them failed: possibly transient (a network volume), so retried.
            throw new IllegalStateException("cannot read the data at spec.data.path " + spec.data.path + ": " + e.getMessage(), e);
        }
        String shape = data.train().isText()
                ? String.format(Locale.ROOT, "texts of up to %d tokens (mean %.0f)", data.train().width(),
                        java.util.Arrays.stream(data.train().tokens().lengths()).average().orElse(0))
                : data.train().channels() + "x" + data.train().height() + "x" + data.train().width();
        out.printf(Locale.ROOT, "data: %d train / %d test examples of %s, %d classes (%.1fs)%n",
                data.train().size(), data.test().size(), shape, data.train().classes(), (System.nanoTime() - t0) / 1e9);
        return data;
    }

    /** Pre-flight: a manifest that cannot run is refused (exit 78, no retry) rather than failed. */
    private static <T> T preflight(Supplier<T> check) {
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
}
