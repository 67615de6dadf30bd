package dev.goodput.trainer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/** The trainer as a real child JVM, as a pod would run it, receiving real signals. */
public final class TrainerProcess implements AutoCloseable {
    private final Process process;
    private final List<String> lines = new CopyOnWriteArrayList<>();
    private final Thread reader;

    private TrainerProcess(Process process) {
        this.process = process;
        reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) lines.add(l);
            } catch (IOException ignored) {
                // The process ended.
            }
        });
        reader.setDaemon(true);
        reader.start();
    }

    public static TrainerProcess start(Path manifest, Path checkpoints, Path terminationLog, String... extra) throws IOException {
        return start(java.util.Map.of(), manifest, checkpoints, terminationLog, extra);
    }

    /** As {@link #start(Path, Path, Path, String...)} with extra environment variables, as the operator sets them. */
    public static TrainerProcess start(java.util.Map<String, String> env, Path manifest, Path checkpoints, Path terminationLog,
                                       String... extra) throws IOException {
        return start(List.of(), env, manifest, checkpoints, terminationLog, extra);
    }

    /** As above, with options for the child JVM (system properties such as the fault-injection hook's). */
    public static TrainerProcess start(List<String> jvmOptions, java.util.Map<String, String> env, Path manifest,
                                       Path checkpoints, Path terminationLog, String... extra) throws IOException {
        return start(List.of(), jvmOptions, env, manifest, checkpoints, terminationLog, extra);
    }

    /** As above, run through {@code wrapper} (a command that ends by exec-ing its arguments, e.g. into a cgroup). */
    public static TrainerProcess start(List<String> wrapper, List<String> jvmOptions, java.util.Map<String, String> env,
                                       Path manifest, Path checkpoints, Path terminationLog, String... extra) throws IOException {
        List<String> cmd = new ArrayList<>(wrapper);
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.add("-Dai.djl.offline=true");
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add("dev.goodput.trainer.cli.TrainerCli");
        cmd.add("run");
        cmd.add(manifest.toString());
        cmd.add("--checkpoint-dir");
        cmd.add(checkpoints.toString());
        cmd.add("--termination-log");
        cmd.add(terminationLog.toString());
        cmd.add("--progress");
        cmd.add("log");
        cmd.addAll(List.of(extra));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        return new TrainerProcess(pb.start());
    }

    public boolean printed(String fragment) {
        return lines.stream().anyMatch(l -> l.contains(fragment));
    }

    public List<String> lines() {
        return List.copyOf(lines);
    }

    private static final java.util.regex.Pattern METRICS_PORT = java.util.regex.Pattern.compile("metrics on :(\\d+)");

    /** The port of /metrics and /progress, once the trainer has printed it (run with --metrics-port 0); else -1. */
    public int metricsPort() {
        for (String l : lines) {
            java.util.regex.Matcher m = METRICS_PORT.matcher(l);
            if (m.find()) return Integer.parseInt(m.group(1));
        }
        return -1;
    }

    /** GET of one of the trainer's endpoints (/progress, /metrics, /healthz) on loopback. */
    public String get(String path) throws IOException, InterruptedException {
        var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + metricsPort() + path))
                .timeout(java.time.Duration.ofSeconds(5)).build();
        return java.net.http.HttpClient.newHttpClient().send(request, java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }

    /** The trainer's /progress, or null while it does not answer. */
    public dev.goodput.api.status.TrainerReport progress() {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readValue(get("/progress"), dev.goodput.api.status.TrainerReport.class);
        } catch (IOException | InterruptedException e) {
            return null;
        }
    }

    public boolean alive() {
        return process.isAlive();
    }

    public long pid() {
        return process.pid();
    }

    /**
     * SIGTERM, as the kubelet sends when a pod is deleted or evicted. Through the process handle: {@link Process#destroy}
     * also closes the pipes, so everything the trainer prints after the signal (its save, its exit line) would be lost.
     */
    public void sigterm() {
        process.toHandle().destroy();
    }

    public void sigkill() {
        process.toHandle().destroyForcibly();
    }

    public int waitFor(long seconds) throws InterruptedException {
        if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("trainer did not exit within " + seconds + "s; output:\n" + String.join("\n", lines));
        }
        reader.join(10_000); // the process has exited: read its output to the end before anyone looks at it
        return process.exitValue();
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
