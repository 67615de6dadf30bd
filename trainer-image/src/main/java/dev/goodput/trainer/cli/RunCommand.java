package dev.goodput.trainer.cli;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.ManifestException;
import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.run.TerminationMessage;
import dev.goodput.trainer.config.ConfigRefusal;
import dev.goodput.trainer.config.RunSettings;
import java.nio.file.Files;
import dev.goodput.trainer.distributed.LocalProcesses;
import dev.goodput.trainer.distributed.World;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer run JOB.yaml}. In a pod the operator sets the GOODPUT_* variables; on a laptop the
 * defaults keep everything under ./goodput-runs.
 */
@Command(name = "run", description = "Trains a TrainingJob, resuming from its newest checkpoint if there is one.")
final class RunCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "JOB.yaml", description = "TrainingJob manifest (the same file kubectl applies)")
    Path manifest;

    @Option(names = "--checkpoint-dir", description = "Checkpoint root (env GOODPUT_CHECKPOINT_DIR; default ./goodput-runs/checkpoints)")
    Path checkpointDir;

    @Option(names = "--job-id", description = "Checkpoint namespace (env GOODPUT_JOB_UID; default metadata.uid, then metadata.name)")
    String jobId;

    @Option(names = "--metrics-port", description = "Port for /metrics, /progress, /healthz; 0 = any free port, -1 = off (env GOODPUT_METRICS_PORT; default off)")
    Integer metricsPort;

    @Option(names = "--termination-log", description = "JSON exit summary (env GOODPUT_TERMINATION_LOG; default /dev/termination-log when it exists)")
    Path terminationLog;

    @Option(names = "--progress", description = "bar, log or auto (bar on a terminal)", defaultValue = "auto")
    String progress;

    @Option(names = "--set", paramLabel = "PATH=VALUE", description = "Override a manifest field, e.g. --set spec.training.epochs=1")
    Map<String, String> overrides = new LinkedHashMap<>();

    @Option(names = "--processes", description = "Trainer processes on this machine, training together through c10d"
            + " (default: one per GPU of spec.resources.gpus, else 1)")
    Integer processes;

    @Override
    public Integer call() {
        TrainingJobManifest m;
        Path termination = terminationLog != null ? terminationLog : env("GOODPUT_TERMINATION_LOG").map(Path::of)
                .orElse(Files.exists(Path.of("/dev/termination-log")) ? Path.of("/dev/termination-log") : null);
        try {
            m = ManifestReader.read(manifest, overrides);
        } catch (ManifestException e) {
            return refuse(e.getMessage(), termination);
        }
        World world;
        try {
            world = World.fromEnvironment(System.getenv());
        } catch (IllegalArgumentException e) {
            return refuse("cannot join the run's processes: " + e.getMessage(), termination);
        }
        LocalProcesses.Count count = LocalProcesses.count(processes, m.spec.resources == null ? null : m.spec.resources.gpus,
                LocalProcesses.visibleGpus(), m.spec.training.globalBatchSize, world.size(),
                System.getenv().containsKey(LocalProcesses.CHILD_ENV));
        if (count.note() != null) System.out.println("goodput: " + count.note());
        int local = count.processes();
        if (local > 1) {
            try {
                return LocalProcesses.run(local, childArguments(), metricsPort != null ? metricsPort
                        : env("GOODPUT_METRICS_PORT").map(Integer::parseInt).orElse(null), termination, System.out);
            } catch (java.io.IOException e) {
                return refuse("cannot start " + local + " trainer processes: " + e.getMessage(), termination);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return ExitCodes.FAILED;
            }
        }
        Path root = checkpointDir != null ? checkpointDir
                : env("GOODPUT_CHECKPOINT_DIR").map(Path::of).orElse(Path.of("goodput-runs", "checkpoints"));
        String id = jobId != null ? jobId : env("GOODPUT_JOB_UID").orElse(m.metadata.uid != null ? m.metadata.uid
                : m.metadata.name != null ? m.metadata.name : "job");
        int attempt = env("GOODPUT_ATTEMPT").map(Integer::parseInt).orElse(0);
        int port = metricsPort != null ? metricsPort : env("GOODPUT_METRICS_PORT").map(Integer::parseInt).orElse(-1);
        boolean bar = "bar".equals(progress) || ("auto".equals(progress) && System.console() != null);
        // The pod's terminationGracePeriodSeconds, which the operator derives from how long saves take: the trainer
        // must plan its SIGTERM save within what the kubelet will actually wait, not the manifest's default.
        java.time.Duration grace = env("GOODPUT_GRACE_PERIOD_SECONDS").map(Long::parseLong).map(java.time.Duration::ofSeconds)
                .orElse(null);
        RunSettings settings = new RunSettings(m, manifest, root, id, attempt, port, termination, bar, null, true, grace, world);
        try {
            return new TrainerRun(settings, System.out).run();
        } catch (ConfigRefusal e) {
            // Pre-flight only (a data path that does not exist, a plan that cannot resolve): exit 78, not retried.
            return refuse("invalid TrainingJob " + manifest + ":\n  - " + e.getMessage(), termination);
        } catch (RuntimeException e) {
            e.printStackTrace();
            TrainerReport r = new TrainerReport();
            r.phase = TrainerPhase.Failed;
            r.exitCode = ExitCodes.FAILED;
            r.message = String.valueOf(e.getMessage());
            TerminationMessage.write(termination, r);
            return ExitCodes.FAILED;
        }
    }

    /** This command's arguments for the processes it starts, less the ones each gets of its own. */
    private List<String> childArguments() {
        List<String> args = new ArrayList<>(List.of(manifest.toString(), "--progress", progress));
        if (checkpointDir != null) args.addAll(List.of("--checkpoint-dir", checkpointDir.toString()));
        if (jobId != null) args.addAll(List.of("--job-id", jobId));
        overrides.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
        return args;
    }

    private static Integer refuse(String message, Path termination) {
        System.err.println(message);
        TrainerReport r = new TrainerReport();
        r.phase = TrainerPhase.Failed;
        r.exitCode = ExitCodes.CONFIG_ERROR;
        r.message = message;
        TerminationMessage.write(termination, r);
        return ExitCodes.CONFIG_ERROR;
    }

    private static java.util.Optional<String> env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? java.util.Optional.empty() : java.util.Optional.of(v);
    }
}
