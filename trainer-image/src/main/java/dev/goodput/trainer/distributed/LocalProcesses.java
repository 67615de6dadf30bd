package dev.goodput.trainer.distributed;

import dev.goodput.api.ExitCodes;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import sun.misc.Signal;

/**
 * One trainer process per GPU of a pod (or per {@code --processes} on a laptop), started by the pod's own trainer
 * process as torchrun starts its workers: each gets the per-process environment torchrun gives ({@code RANK},
 * {@code LOCAL_RANK}, {@code LOCAL_WORLD_SIZE}, {@code WORLD_SIZE} over every process of the job), and they train
 * together through c10d, which replaces the in-process replicas that copied every parameter through host memory on
 * every step. This process forwards SIGTERM and SIGINT to them, waits for all, and exits with their verdict. Local
 * process 0 serves the pod's metrics port and writes its termination message; the others neither.
 */
public final class LocalProcesses {
    /** Set on the processes this launcher starts, so that they train instead of launching again. */
    public static final String CHILD_ENV = "GOODPUT_LOCAL_PROCESS";

    private LocalProcesses() {}

    /** How many processes this pod runs, and why not one per GPU when it could have (for the console). */
    public record Count(int processes, String note) {}

    /**
     * How many processes this pod runs: {@code --processes} when given, else one per GPU the pod has of those it asked
     * for (spec.resources.gpus; a manifest for GPUs run on a laptop without them is one process), else one; always
     * one inside a process this launcher started. One process per GPU needs the global batch to divide among every
     * process of the job; when it does not (a lone pod's 3 GPUs and a batch of 128), the pod runs one process that
     * splits each batch over its GPUs as replicas, and says so.
     *
     * @param devices     the GPUs this machine shows (device files /dev/nvidia0, /dev/nvidia1, ...)
     * @param globalBatch spec.training.globalBatchSize
     * @param pods        the pods of the job (the pod's WORLD_SIZE)
     * @param child       this process was started by this launcher
     */
    public static Count count(Integer flag, Integer gpus, int devices, int globalBatch, int pods, boolean child) {
        if (child) return new Count(1, null);
        if (flag != null) return new Count(Math.max(1, flag), null);
        int n = Math.max(1, gpus == null ? 0 : Math.min(gpus, devices));
        if (n > 1 && globalBatch % (pods * n) != 0) {
            return new Count(1, "globalBatchSize " + globalBatch + " does not divide among " + pods * n
                    + " processes (one per GPU): one process trains on the " + n + " GPUs as replicas instead");
        }
        return new Count(n, null);
    }

    /** The NVIDIA devices this machine (or container) shows, without loading libtorch. */
    public static int visibleGpus() {
        try (var files = java.nio.file.Files.list(Path.of("/dev"))) {
            return (int) files.filter(f -> f.getFileName().toString().matches("nvidia[0-9]+")).count();
        } catch (IOException e) {
            return 0;
        }
    }

    /**
     * Local process {@code local} of {@code n}'s environment, from the pod's: the pod's WORLD_SIZE and RANK count pods
     * (one process per pod, as the operator sets them); the processes' count processes. A lone pod's processes meet on
     * loopback at {@code port}; a gang's keep the pod's rendezvous (MASTER_ADDR, the rendezvous file).
     */
    public static Map<String, String> environment(Map<String, String> pod, int local, int n, int port) {
        World place = World.fromEnvironment(pod);
        int pods = place.size();
        int podRank = place.rank();
        Map<String, String> env = new HashMap<>(pod);
        env.put(CHILD_ENV, "1");
        env.put("WORLD_SIZE", String.valueOf(pods * n));
        env.put("RANK", String.valueOf(podRank * n + local));
        env.put("LOCAL_RANK", String.valueOf(local));
        env.put("LOCAL_WORLD_SIZE", String.valueOf(n));
        env.put("NODE_RANK", String.valueOf(podRank));
        if (pods == 1) {
            env.put("MASTER_ADDR", "127.0.0.1");
            env.put("MASTER_PORT", String.valueOf(port));
            env.remove(World.RENDEZVOUS_FILE_ENV);
        }
        return env;
    }

    /**
     * The pod's exit code from its processes': all finished, 0; all stopped to be resumed (75, or 0 for one that had
     * finished), 75; otherwise local process 0's failure, else the first failure among the others.
     */
    public static int exitCode(List<Integer> codes) {
        if (codes.stream().allMatch(c -> c == ExitCodes.FINISHED)) return ExitCodes.FINISHED;
        if (codes.stream().allMatch(c -> c == ExitCodes.FINISHED || c == ExitCodes.PREEMPTED)) return ExitCodes.PREEMPTED;
        OptionalInt failed = codes.stream().mapToInt(Integer::intValue)
                .filter(c -> c != ExitCodes.FINISHED && c != ExitCodes.PREEMPTED).findFirst();
        return failed.orElse(ExitCodes.FAILED);
    }

    /**
     * Starts {@code n} trainer processes (this JVM's command, {@code run} and {@code args}), forwards signals, and
     * returns the pod's exit code.
     *
     * @param first  the metrics port and termination log of local process 0 (the pod's)
     */
    public static int run(int n, List<String> args, Integer metricsPort, Path terminationLog, PrintStream out)
            throws IOException, InterruptedException {
        int port = freePort();
        List<Process> processes = new ArrayList<>();
        out.printf("goodput: %d processes, one per %s, training together (c10d)%n", n, n > 1 ? "device" : "pod");
        for (int i = 0; i < n; i++) {
            List<String> cmd = new ArrayList<>(javaCommand());
            cmd.add("run");
            cmd.addAll(args);
            cmd.add("--metrics-port");
            cmd.add(String.valueOf(i == 0 && metricsPort != null ? metricsPort : -1));
            if (i == 0 && terminationLog != null) {
                cmd.add("--termination-log");
                cmd.add(terminationLog.toString());
            } else {
                cmd.add("--termination-log");
                cmd.add(Path.of(System.getProperty("java.io.tmpdir"), "goodput-process-" + i + ".json").toString());
            }
            ProcessBuilder pb = new ProcessBuilder(cmd).inheritIO();
            pb.environment().clear();
            pb.environment().putAll(environment(System.getenv(), i, n, port));
            processes.add(pb.start());
        }
        for (String name : new String[] {"TERM", "INT"}) {
            // The kubelet signals only the container's first process: every local process must checkpoint-and-stop.
            Signal.handle(new Signal(name), s -> processes.forEach(p -> p.toHandle().destroy()));
        }
        List<Integer> codes = new ArrayList<>();
        for (Process p : processes) codes.add(p.waitFor());
        int code = exitCode(codes);
        out.println("goodput: local processes exited " + codes + "; exit " + code);
        return code;
    }

    /** The command that started this JVM, up to and including its main class or jar. */
    private static List<String> javaCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        String jar = System.getProperty("sun.java.command", "");
        String first = jar.split(" ")[0];
        if (first.endsWith(".jar")) {
            cmd.add("-jar");
            cmd.add(first);
        } else {
            cmd.add("-cp");
            cmd.add(System.getProperty("java.class.path"));
            cmd.add("dev.goodput.trainer.cli.TrainerCli");
        }
        return cmd;
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
