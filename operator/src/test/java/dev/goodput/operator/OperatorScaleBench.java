package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.operator.harness.Repo;
import dev.goodput.operator.harness.TestApiServer;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Operator scale benchmark (issue 10): N TrainingJobs applied at once to the real apiserver, time from each job's
 * creation to its pod's creation, and the operator's memory. Not a test: surefire's default includes do not match
 * the name; {@code bench/operator-scale/run.sh} runs it with {@code -Dtest=OperatorScaleBench}.
 *
 * <p>The operator is the packaged Quarkus app ({@code operator/target/quarkus-app/quarkus-run.jar}, prod profile:
 * leader election on) in a process of its own, so its RSS is its own, with a kubeconfig for the test apiserver and
 * the environment the chart gives it, watching one fresh namespace per N. No kubelet: pods stay Pending. The bench JVM
 * watches TrainingJobs and pods in that namespace and stamps each ADDED event on arrival (monotonic clock): the
 * latency of a job is its pod's arrival minus its own, both seen through the same watch path, to the millisecond.
 * The objects' creationTimestamps (whole seconds) give a coarse cross-check. RSS: VmRSS sampled every 100 ms and
 * VmHWM from /proc/&lt;pid&gt;/status.
 *
 * <p>System properties: {@code goodput.bench.jobs} (default {@code 100,1000}), {@code goodput.bench.javaOpts} (default:
 * as the chart's container with a 512Mi limit), {@code goodput.bench.operatorEnv} (extra NAME=VALUE,... for the
 * operator), {@code goodput.bench.creators} (client threads creating jobs, default 16), {@code goodput.bench.report}
 * (markdown file to write; default target/operator-scale/report.md), {@code goodput.bench.command} (shown in it).
 */
class OperatorScaleBench {
    /**
     * As in the chart's container: memory limit 512Mi (MaxRAM), Dockerfile.jvm's MaxRAMPercentage=75 and
     * TieredStopAtLevel=1, and the GC flags the image's run-java.sh adds.
     */
    static final String CHART_JAVA_OPTS = "-XX:MaxRAM=512m -XX:MaxRAMPercentage=75 -XX:TieredStopAtLevel=1 "
            + "-XX:+UseParallelGC -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=20 -XX:GCTimeRatio=4 "
            + "-XX:AdaptiveSizePolicyWeight=90 -XX:+ExitOnOutOfMemoryError";
    static final HttpClient HTTP = HttpClient.newHttpClient();

    record Result(int jobs, double p50, double p90, double p99, double max, double mean, double makespan,
            double createSeconds, double coarseP99, long idleRssKb, long peakRssKb, long settledRssKb, long hwmKb,
            double startup, String reconciles, double operatorCpu, double apiserverCpu, double etcdCpu) {}

    @Test
    void scale() throws Exception {
        int[] sizes = Arrays.stream(System.getProperty("goodput.bench.jobs", "100,1000").split(","))
                .map(String::strip).mapToInt(Integer::parseInt).toArray();
        String javaOpts = System.getProperty("goodput.bench.javaOpts", CHART_JAVA_OPTS);
        int creators = Integer.getInteger("goodput.bench.creators", 16);
        Path jar = Repo.root().resolve("operator/target/quarkus-app/quarkus-run.jar");
        assertThat(jar).as("build the app first: mvn -pl api,operator -am package -DskipTests").exists();
        Path out = Files.createDirectories(Path.of("target", "operator-scale").toAbsolutePath());
        Path report = Path.of(System.getProperty("goodput.bench.report", out.resolve("report.md").toString()));
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();

        TestApiServer api = TestApiServer.get();
        List<Result> results = new ArrayList<>();
        try (KubernetesClient client = api.newClient()) {
            for (int n : sizes) {
                results.add(run(api, client, n, jar, javaOpts, creators, out));
                System.out.printf("[operator-scale] %s%n", results.get(results.size() - 1));
            }
        }
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Files.writeString(report, report(results, javaOpts, creators, load0, load1));
        System.out.printf("[operator-scale] report: %s%n", report);
    }

    Result run(TestApiServer api, KubernetesClient client, int n, Path jar, String javaOpts, int creators, Path out)
            throws Exception {
        String ns = api.createNamespace(client, "scale-" + n);
        String warm = api.createNamespace(client, "warm-" + n);
        Path pricing = Files.writeString(out.resolve("pricing.yaml"), """
                gpu:
                  nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}
                cpuCoreHour: {onDemand: 0.0316, spot: 0.0095}
                memoryGiBHour: {onDemand: 0.0042, spot: 0.0013}
                """);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(Arrays.asList(javaOpts.split("\\s+")));
        cmd.add("-Djava.util.logging.manager=org.jboss.logmanager.LogManager");
        cmd.addAll(List.of("-jar", jar.toString()));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(out.resolve("operator-" + n + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("KUBECONFIG", api.kubeconfig().toString());
        env.put("KUBERNETES_NAMESPACE", ns); // the lease's namespace, as the pod's namespace in the chart
        env.put("QUARKUS_OPERATOR_SDK_NAMESPACES", ns + "," + warm);
        env.put("QUARKUS_OPERATOR_SDK_CONTROLLERS_TRAININGJOB_NAMESPACES", ns + "," + warm);
        env.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        env.put("GOODPUT_PRICING_FILE", pricing.toString());
        env.put("GOODPUT_LEADER_ELECTION_LEASE_NAME", "goodput-bench");
        for (String kv : System.getProperty("goodput.bench.operatorEnv", "").split(",")) {
            if (kv.contains("=")) {
                env.put(kv.substring(0, kv.indexOf('=')).strip(), kv.substring(kv.indexOf('=') + 1).strip());
            }
        }
        long start = System.nanoTime();
        Process operator = pb.start();
        try {
            awaitReady(operator, port, Duration.ofSeconds(120));
            double startup = (System.nanoTime() - start) / 1e9;
            // Warm-up: a running operator has reconciled before (JIT, classes, connections); jobs in another namespace.
            int warmup = Integer.getInteger("goodput.bench.warmup", 200);
            for (int i = 0; i < warmup; i++) {
                client.resources(TrainingJob.class).inNamespace(warm)
                        .resource(Serialization.unmarshal(manifest("warm-" + i), TrainingJob.class)).create();
            }
            long warmDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (client.pods().inNamespace(warm).list().getItems().size() < warmup && System.nanoTime() < warmDeadline) {
                Thread.sleep(200);
            }
            Thread.sleep(3000);
            long idle = rssKb(operator.pid(), "VmRSS");

            Map<String, Long> jobSeen = new ConcurrentHashMap<>();
            Map<String, Long> podSeen = new ConcurrentHashMap<>();
            SharedIndexInformer<TrainingJob> jobs = client.resources(TrainingJob.class).inNamespace(ns)
                    .inform(added(jobSeen));
            SharedIndexInformer<Pod> pods = client.pods().inNamespace(ns).inform(added(podSeen));
            AtomicLong peak = new AtomicLong(idle);
            var sampler = Executors.newSingleThreadScheduledExecutor();
            sampler.scheduleAtFixedRate(() -> peak.accumulateAndGet(rssKb(operator.pid(), "VmRSS"), Math::max), 0, 100,
                    TimeUnit.MILLISECONDS);

            long[] cpu0 = {cpuTicks(operator.pid()), cpuTicks(descendant("kube-apiserver")), cpuTicks(descendant("etcd"))};
            long t0 = System.nanoTime();
            ExecutorService pool = Executors.newFixedThreadPool(creators);
            List<Future<?>> creates = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String name = String.format(Locale.ROOT, "job-%04d", i);
                creates.add(pool.submit(() -> client.resources(TrainingJob.class).inNamespace(ns)
                        .resource(Serialization.unmarshal(manifest(name), TrainingJob.class)).create()));
            }
            for (Future<?> f : creates) {
                f.get();
            }
            double createSeconds = (System.nanoTime() - t0) / 1e9;
            pool.shutdown();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(600);
            while (podSeen.size() < n && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(podSeen).as("pods created within 600 s").hasSize(n);
            long[] cpu1 = {cpuTicks(operator.pid()), cpuTicks(descendant("kube-apiserver")), cpuTicks(descendant("etcd"))};
            // Settle: every job's status written, then a few quiet seconds.
            while (System.nanoTime() < deadline && client.resources(TrainingJob.class).inNamespace(ns).list().getItems()
                    .stream().anyMatch(j -> j.getStatus() == null || j.getStatus().attempts == null)) {
                Thread.sleep(200);
            }
            Thread.sleep(5000);
            sampler.shutdownNow();
            long settled = rssKb(operator.pid(), "VmRSS");
            long hwm = rssKb(operator.pid(), "VmHWM");
            jobs.close();
            pods.close();

            double[] lat = new double[n];
            long firstJob = jobSeen.values().stream().mapToLong(Long::longValue).min().orElseThrow();
            long lastPod = podSeen.values().stream().mapToLong(Long::longValue).max().orElseThrow();
            for (int i = 0; i < n; i++) {
                String name = String.format(Locale.ROOT, "job-%04d", i);
                lat[i] = (podSeen.get(name + "-1") - jobSeen.get(name)) / 1e9;
            }
            Arrays.sort(lat);
            // Coarse cross-check from the objects' own timestamps (whole seconds).
            Map<String, String> jobCreated = new java.util.HashMap<>();
            client.resources(TrainingJob.class).inNamespace(ns).list().getItems()
                    .forEach(j -> jobCreated.put(j.getMetadata().getName(), j.getMetadata().getCreationTimestamp()));
            double[] coarse = client.pods().inNamespace(ns).list().getItems().stream()
                    .mapToDouble(p -> Duration.between(Instant.parse(jobCreated.get(p.getMetadata().getLabels().get(Labels.JOB))),
                            Instant.parse(p.getMetadata().getCreationTimestamp())).toSeconds())
                    .sorted().toArray();
            String reconciles = scrape(port, ns);
            if (Boolean.getBoolean("goodput.bench.histogram")) {
                // Live objects after a full GC (jcmd forces one): what the operator's heap holds with n jobs.
                Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
                new ProcessBuilder(jcmd.toString(), String.valueOf(operator.pid()), "GC.class_histogram").redirectErrorStream(true)
                        .redirectOutput(out.resolve("histogram-" + n + ".txt").toFile()).start().waitFor(60, TimeUnit.SECONDS);
            }
            return new Result(n, q(lat, 0.50), q(lat, 0.90), q(lat, 0.99), lat[n - 1],
                    Arrays.stream(lat).average().orElse(0), (lastPod - firstJob) / 1e9, createSeconds, q(coarse, 0.99),
                    idle, peak.get(), settled, hwm, startup, reconciles, (cpu1[0] - cpu0[0]) / 100.0,
                    (cpu1[1] - cpu0[1]) / 100.0, (cpu1[2] - cpu0[2]) / 100.0);
        } finally {
            operator.destroy();
            if (!operator.waitFor(30, TimeUnit.SECONDS)) {
                operator.destroyForcibly();
            }
        }
    }

    static String manifest(String name) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  resources: {cpu: "1", memory: 1Gi}
                """.formatted(name);
    }

    static <T extends io.fabric8.kubernetes.api.model.HasMetadata> ResourceEventHandler<T> added(Map<String, Long> seen) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(T o) {
                seen.putIfAbsent(o.getMetadata().getName(), System.nanoTime());
            }

            @Override
            public void onUpdate(T a, T b) {}

            @Override
            public void onDelete(T o, boolean unknown) {}
        };
    }

    static void awaitReady(Process p, int port, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            assertThat(p.isAlive()).as("operator process exited with %s", p.isAlive() ? "" : p.exitValue()).isTrue();
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/q/health/ready")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("operator not ready within " + timeout);
    }

    /** JOSDK's reconciliation counters (all jobs, warm-up included) from /q/metrics. */
    static String scrape(int port, String ns) {
        try {
            String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            Map<String, Double> sums = new java.util.TreeMap<>();
            text.lines().filter(l -> l.startsWith("operator_sdk_reconciliations_") && l.contains("_total{"))
                    .forEach(l -> sums.merge(l.substring("operator_sdk_reconciliations_".length(), l.indexOf('{')),
                            Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)), Double::sum));
            return sums.entrySet().stream().map(e -> String.format(Locale.ROOT, "%s %.0f", e.getKey(), e.getValue()))
                    .reduce((a, b) -> a + ", " + b).orElse("n/a");
        } catch (Exception e) {
            return "n/a (" + e + ")";
        }
    }

    /** utime + stime of a process in clock ticks (USER_HZ = 100 on Linux), 0 if gone. */
    static long cpuTicks(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", String.valueOf(pid), "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** The pid of this JVM's descendant process whose command ends with {@code name} (the test apiserver's etcd, ...). */
    static long descendant(String name) {
        return ProcessHandle.current().descendants().filter(p -> p.info().command().map(c -> c.endsWith("/" + name)).orElse(false))
                .mapToLong(ProcessHandle::pid).findFirst().orElse(-1);
    }

    static long rssKb(long pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(pid), "status"))) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
        } catch (IOException e) {
            // process gone
        }
        return 0;
    }

    /** Nearest-rank quantile of sorted values. */
    static double q(double[] sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    static String report(List<Result> results, String javaOpts, int creators, String load0, String load1) throws IOException {
        String cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).strip()).orElse("?");
        StringBuilder sb = new StringBuilder();
        sb.append("# Operator scale: ").append(LocalDate.now()).append("\n\n");
        sb.append("Command: `").append(System.getProperty("goodput.bench.command",
                "mvn -B -pl operator test -Dtest=OperatorScaleBench -Dsurefire.failIfNoSpecifiedTests=false")).append("`\n\n");
        sb.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (").append(cpu)
                .append("), shared by etcd, kube-apiserver, the operator and the bench client; load average before ")
                .append(load0).append(", after ").append(load1).append(".\n\n");
        sb.append("Operator: `operator/target/quarkus-app/quarkus-run.jar` as its own process, `").append(javaOpts)
                .append("`").append(System.getProperty("goodput.bench.operatorEnv", "").isBlank() ? ""
                        : ", env `" + System.getProperty("goodput.bench.operatorEnv") + "`")
                .append("; jobs created by ").append(creators).append(" client threads.\n\n");
        sb.append("| jobs | create burst s | job → pod p50 s | p90 s | p99 s | max s | mean s | last pod after first job s "
                + "| p99 from timestamps s | RSS idle MB | RSS peak (sampled) MB | RSS settled MB | VmHWM MB | operator ready s "
                + "| CPU s: operator / apiserver / etcd |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "| %d | %.2f | %.3f | %.3f | %.3f | %.3f | %.3f | %.2f | %.0f | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f / %.1f / %.1f |%n",
                    r.jobs(), r.createSeconds(), r.p50(), r.p90(), r.p99(), r.max(), r.mean(), r.makespan(), r.coarseP99(),
                    r.idleRssKb() / 1024.0, r.peakRssKb() / 1024.0, r.settledRssKb() / 1024.0, r.hwmKb() / 1024.0,
                    r.startup(), r.operatorCpu(), r.apiserverCpu(), r.etcdCpu()));
        }
        sb.append("\nEach run: a fresh operator process watching the measured namespace and a warm-up one, where ")
                .append(Integer.getInteger("goodput.bench.warmup", 200)).append(" jobs were reconciled first; RSS idle is after ")
                .append("the warm-up. Latency: a pod's ADDED watch event minus its job's, both received by the bench.\n");
        sb.append("\nJOSDK reconciliations (warm-up included): ");
        results.forEach(r -> sb.append("\n- ").append(r.jobs()).append(" jobs: ").append(r.reconciles()));
        sb.append("\n");
        return sb.toString();
    }
}
