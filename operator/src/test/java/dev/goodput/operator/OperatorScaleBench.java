package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.JobPhase;
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
import java.util.Set;
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
 * (markdown file to write; default target/operator-scale/report.md), {@code goodput.bench.command} (shown in it),
 * {@code goodput.bench.running} (jobs of the steady-state part, default 200, 0 to skip), {@code goodput.bench.window}
 * (its measuring window in seconds, default 180), {@code goodput.bench.operatorJar} (another build's quarkus-run.jar).
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
            double startup, String reconciles, double operatorCpu, double apiserverCpu, double etcdCpu,
            Map<String, Double> writes) {}

    @Test
    void scale() throws Exception {
        int[] sizes = Arrays.stream(System.getProperty("goodput.bench.jobs", "100,1000").split(","))
                .map(String::strip).mapToInt(Integer::parseInt).toArray();
        String javaOpts = System.getProperty("goodput.bench.javaOpts", CHART_JAVA_OPTS);
        int creators = Integer.getInteger("goodput.bench.creators", 16);
        // Another build's operator (an earlier commit's, for before/after) with -Dgoodput.bench.operatorJar.
        Path jar = Path.of(System.getProperty("goodput.bench.operatorJar",
                Repo.root().resolve("operator/target/quarkus-app/quarkus-run.jar").toString()));
        assertThat(jar).as("build the app first: mvn -pl api,operator -am package -DskipTests").exists();
        Path out = Files.createDirectories(Path.of("target", "operator-scale").toAbsolutePath());
        Path report = Path.of(System.getProperty("goodput.bench.report", out.resolve("report.md").toString()));
        String load0 = Files.readString(Path.of("/proc/loadavg")).strip();

        int running = Integer.getInteger("goodput.bench.running", 200);
        int window = Integer.getInteger("goodput.bench.window", 180);

        TestApiServer api = TestApiServer.get();
        List<Result> results = new ArrayList<>();
        RunningResult steady = null;
        try (KubernetesClient client = api.newClient()) {
            for (int n : sizes) {
                results.add(run(api, client, n, jar, javaOpts, creators, out));
                System.out.printf("[operator-scale] %s%n", results.get(results.size() - 1));
            }
            if (running > 0) {
                steady = running(api, client, running, Duration.ofSeconds(window), jar, javaOpts, out);
                System.out.printf("[operator-scale] %s%n", steady);
            }
        }
        String load1 = Files.readString(Path.of("/proc/loadavg")).strip();
        Files.writeString(report, report(results, javaOpts, creators, load0, load1) + (steady == null ? "" : steady.markdown()));
        System.out.printf("[operator-scale] report: %s%n", report);
    }

    Result run(TestApiServer api, KubernetesClient client, int n, Path jar, String javaOpts, int creators, Path out)
            throws Exception {
        String ns = api.createNamespace(client, "scale-" + n);
        String warm = api.createNamespace(client, "warm-" + n);
        long start = System.nanoTime();
        OperatorProcess op = startOperator(api, String.valueOf(n), List.of(ns, warm), jar, javaOpts, out);
        Process operator = op.process();
        int port = op.port();
        try {
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
            Map<String, Double> writes0 = requests(client);
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
            Map<String, Double> writes = minus(requests(client), writes0);
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
                    (cpu1[1] - cpu0[1]) / 100.0, (cpu1[2] - cpu0[2]) / 100.0, writes);
        } finally {
            operator.destroy();
            if (!operator.waitFor(30, TimeUnit.SECONDS)) {
                operator.destroyForcibly();
            }
        }
    }

    /** The packaged operator in a process of its own, watching {@code namespaces}, ready. */
    record OperatorProcess(Process process, int port) {}

    static OperatorProcess startOperator(TestApiServer api, String tag, List<String> namespaces, Path jar, String javaOpts,
            Path out) throws Exception {
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
                .redirectOutput(out.resolve("operator-" + tag + ".log").toFile());
        Map<String, String> env = pb.environment();
        env.put("KUBECONFIG", api.kubeconfig().toString());
        env.put("KUBERNETES_NAMESPACE", namespaces.get(0)); // the lease's namespace, as the pod's namespace in the chart
        env.put("QUARKUS_OPERATOR_SDK_NAMESPACES", String.join(",", namespaces));
        env.put("QUARKUS_OPERATOR_SDK_CONTROLLERS_TRAININGJOB_NAMESPACES", String.join(",", namespaces));
        env.put("QUARKUS_HTTP_PORT", String.valueOf(port));
        env.put("GOODPUT_PRICING_FILE", pricing.toString());
        env.put("GOODPUT_LEADER_ELECTION_LEASE_NAME", "goodput-bench");
        for (String kv : System.getProperty("goodput.bench.operatorEnv", "").split(",")) {
            if (kv.contains("=")) {
                env.put(kv.substring(0, kv.indexOf('=')).strip(), kv.substring(kv.indexOf('=') + 1).strip());
            }
        }
        Process operator = pb.start();
        try {
            awaitReady(operator, port, Duration.ofSeconds(120));
        } catch (Throwable e) {
            operator.destroyForcibly();
            throw e;
        }
        return new OperatorProcess(operator, port);
    }

    /**
     * Steady state of {@code m} running jobs, measured over {@code window}.
     *
     * @param statusWrites       the apiserver's count of requests to trainingjobs/status in the window, by verb
     * @param modifiedPerJob     MODIFIED watch events of the jobs in the window (any change of the object): min, median, max
     * @param progressAnswers    /progress answers the fake trainers gave in the window
     */
    record RunningResult(int jobs, double windowSeconds, Map<String, Double> statusWrites, double writesPerJobMinute,
            int[] modifiedPerJob, double reconciles, long progressAnswers, double operatorCpu, double apiserverCpu,
            double etcdCpu, long rssKb, String progressInterval, String statusInterval) {
        String markdown() {
            double total = statusWrites.values().stream().mapToDouble(Double::doubleValue).sum();
            return String.format(Locale.ROOT, """

                    ## %d running jobs, steady state

                    Each job's pod was made Running by the bench (status subresource: phase Running, PodScheduled,
                    the trainer container running, a pod IP of its own on loopback, 127.1.x.y) and answered by a fake
                    trainer endpoint (`FakeTrainerEndpoints` in the bench: one HTTP listener per pod IP on port %d,
                    a report in the trainer's phase Running whose step, loss, samples and lastStepAt move with every
                    answer). No kubelet and no real trainer: this measures the operator and the apiserver only.
                    After every job showed phase Running and one minute more, the bench measured for %.0f s
                    (progress polled every %s, status interval %s):

                    | what | value |
                    |---|---|
                    | status writes (apiserver `apiserver_request_total`, trainingjobs/status) | %.0f (%s) |
                    | status writes per job per minute | **%.2f** |
                    | MODIFIED watch events per job: min / median / max | %d / %d / %d |
                    | reconciles (JOSDK `operator_sdk_reconciliations_started_total`) per job per minute | %.2f |
                    | /progress answers served | %d (%.1f per s) |
                    | CPU s: operator / apiserver / etcd | %.1f / %.1f / %.1f (%.1f %% / %.1f %% / %.1f %% of one core) |
                    | operator RSS at the end | %.0f MB |
                    """, jobs, dev.goodput.operator.reconcile.JobResources.METRICS_PORT, windowSeconds, progressInterval,
                    statusInterval, total, statusWrites, writesPerJobMinute, modifiedPerJob[0], modifiedPerJob[1],
                    modifiedPerJob[2], reconciles / jobs / (windowSeconds / 60), progressAnswers,
                    progressAnswers / windowSeconds, operatorCpu, apiserverCpu, etcdCpu, 100 * operatorCpu / windowSeconds,
                    100 * apiserverCpu / windowSeconds, 100 * etcdCpu / windowSeconds, rssKb / 1024.0);
        }
    }

    RunningResult running(TestApiServer api, KubernetesClient client, int m, Duration window, Path jar, String javaOpts,
            Path out) throws Exception {
        String ns = api.createNamespace(client, "running-" + m);
        List<String> ips = new ArrayList<>();
        for (int i = 0; i < m; i++) {
            ips.add("127.1." + (i / 250) + "." + (i % 250 + 1));
        }
        try (FakeTrainerEndpoints trainers = new FakeTrainerEndpoints(ips, dev.goodput.operator.reconcile.JobResources.METRICS_PORT)) {
            OperatorProcess op = startOperator(api, "running-" + m, List.of(ns), jar, javaOpts, out);
            try {
                for (int i = 0; i < m; i++) {
                    client.resources(TrainingJob.class).inNamespace(ns)
                            .resource(Serialization.unmarshal(manifest(String.format(Locale.ROOT, "run-%04d", i)), TrainingJob.class))
                            .create();
                }
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
                while (client.pods().inNamespace(ns).list().getItems().size() < m && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                List<Pod> pods = client.pods().inNamespace(ns).list().getItems();
                assertThat(pods).as("pods created within 300 s").hasSize(m);
                for (Pod pod : pods) {
                    int i = Integer.parseInt(pod.getMetadata().getLabels().get(Labels.JOB).substring("run-".length()));
                    markRunning(client, ns, pod.getMetadata().getName(), ips.get(i));
                }
                while (System.nanoTime() < deadline && client.resources(TrainingJob.class).inNamespace(ns).list().getItems()
                        .stream().anyMatch(j -> j.getStatus() == null || j.getStatus().phase != JobPhase.Running
                                || j.getStatus().progress == null)) {
                    Thread.sleep(500);
                }
                assertThat(client.resources(TrainingJob.class).inNamespace(ns).list().getItems())
                        .as("every job Running with progress").allMatch(j -> j.getStatus() != null
                                && j.getStatus().phase == JobPhase.Running && j.getStatus().progress != null);
                Thread.sleep(60_000); // past the first telemetry writes: steady state

                Map<String, AtomicLong> modified = new ConcurrentHashMap<>();
                SharedIndexInformer<TrainingJob> watch = client.resources(TrainingJob.class).inNamespace(ns)
                        .inform(new ResourceEventHandler<>() {
                            @Override
                            public void onAdd(TrainingJob o) {}

                            @Override
                            public void onUpdate(TrainingJob a, TrainingJob b) {
                                if (!a.getMetadata().getResourceVersion().equals(b.getMetadata().getResourceVersion())) {
                                    modified.computeIfAbsent(b.getMetadata().getName(), k -> new AtomicLong()).incrementAndGet();
                                }
                            }

                            @Override
                            public void onDelete(TrainingJob o, boolean unknown) {}
                        });
                Thread.sleep(1000); // the informer's initial list is not counted
                modified.clear();
                Map<String, Double> writes0 = statusRequests(client);
                double reconciles0 = reconcilesStarted(op.port());
                long answers0 = trainers.answers();
                long[] cpu0 = {cpuTicks(op.process().pid()), cpuTicks(descendant("kube-apiserver")), cpuTicks(descendant("etcd"))};
                long t0 = System.nanoTime();
                Thread.sleep(window.toMillis());
                double seconds = (System.nanoTime() - t0) / 1e9;
                long[] cpu1 = {cpuTicks(op.process().pid()), cpuTicks(descendant("kube-apiserver")), cpuTicks(descendant("etcd"))};
                Map<String, Double> writes1 = statusRequests(client);
                double reconciles1 = reconcilesStarted(op.port());
                long answers1 = trainers.answers();
                watch.close();
                Map<String, Double> delta = new java.util.TreeMap<>();
                writes1.forEach((verb, v) -> {
                    double d = v - writes0.getOrDefault(verb, 0.0);
                    if (d > 0) {
                        delta.put(verb, d);
                    }
                });
                double total = delta.values().stream().mapToDouble(Double::doubleValue).sum();
                long[] perJob = new long[m];
                for (int i = 0; i < m; i++) {
                    AtomicLong c = modified.get(String.format(Locale.ROOT, "run-%04d", i));
                    perJob[i] = c == null ? 0 : c.get();
                }
                Arrays.sort(perJob);
                return new RunningResult(m, seconds, delta, total / m / (seconds / 60),
                        new int[] {(int) perJob[0], (int) perJob[m / 2], (int) perJob[m - 1]}, reconciles1 - reconciles0,
                        answers1 - answers0, (cpu1[0] - cpu0[0]) / 100.0, (cpu1[1] - cpu0[1]) / 100.0,
                        (cpu1[2] - cpu0[2]) / 100.0, rssKb(op.process().pid(), "VmRSS"),
                        operatorEnv("GOODPUT_PROGRESS_INTERVAL", "5s"), operatorEnv("GOODPUT_STATUS_INTERVAL", "60s"));
            } finally {
                op.process().destroy();
                if (!op.process().waitFor(30, TimeUnit.SECONDS)) {
                    op.process().destroyForcibly();
                }
            }
        }
    }

    /** A setting the bench passed to the operator (goodput.bench.operatorEnv), or the operator's default. */
    static String operatorEnv(String name, String otherwise) {
        for (String kv : System.getProperty("goodput.bench.operatorEnv", "").split(",")) {
            if (kv.strip().startsWith(name + "=")) {
                return kv.substring(kv.indexOf('=') + 1).strip();
            }
        }
        return otherwise;
    }

    /** What a kubelet would write for a pod whose trainer container runs, with {@code ip} as the pod's IP. */
    static void markRunning(KubernetesClient client, String ns, String name, String ip) {
        String now = Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        client.pods().inNamespace(ns).withName(name).editStatus(p -> {
            var conditions = List.of("PodScheduled", "Initialized", "ContainersReady", "Ready").stream()
                    .map(t -> new io.fabric8.kubernetes.api.model.PodConditionBuilder().withType(t).withStatus("True")
                            .withLastTransitionTime(now).build()).toList();
            p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running").withPodIP(ip)
                    .withPodIPs(new io.fabric8.kubernetes.api.model.PodIP(ip)).withHostIP("127.0.0.1").withStartTime(now)
                    .withConditions(conditions)
                    .withContainerStatuses(new io.fabric8.kubernetes.api.model.ContainerStatusBuilder().withName("trainer")
                            .withImage(p.getSpec().getContainers().get(0).getImage()).withImageID("").withReady(true)
                            .withStarted(true).withRestartCount(0).withNewState().withNewRunning().withStartedAt(now)
                            .endRunning().endState().build())
                    .build());
            return p;
        });
    }

    /** The apiserver's request counts for trainingjobs/status, by verb, from its /metrics. */
    static Map<String, Double> statusRequests(KubernetesClient client) {
        Map<String, Double> byVerb = new java.util.TreeMap<>();
        requests(client).forEach((k, v) -> {
            if (k.startsWith("trainingjobs/status ")) {
                byVerb.merge(k.substring(k.indexOf(' ') + 1), v, Double::sum);
            }
        });
        return byVerb;
    }

    /** The apiserver's count of write requests (every verb but get, list, watch), as "resource[/subresource] VERB". */
    static Map<String, Double> requests(KubernetesClient client) {
        Map<String, Double> counts = new java.util.TreeMap<>();
        client.raw("/metrics").lines().filter(l -> l.startsWith("apiserver_request_total{")).forEach(l -> {
            String verb = label(l, "verb");
            if (verb == null || Set.of("GET", "LIST", "WATCH").contains(verb)) {
                return;
            }
            String resource = label(l, "resource");
            String sub = label(l, "subresource");
            String key = resource + (sub == null || sub.isEmpty() ? "" : "/" + sub) + " " + verb;
            counts.merge(key, Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)), Double::sum);
        });
        return counts;
    }

    static String label(String line, String name) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("[{,]" + name + "=\"([^\"]*)\"").matcher(line);
        return m.find() ? m.group(1) : null;
    }

    static Map<String, Double> minus(Map<String, Double> after, Map<String, Double> before) {
        Map<String, Double> d = new java.util.TreeMap<>();
        after.forEach((k, v) -> {
            double x = v - before.getOrDefault(k, 0.0);
            if (x > 0) {
                d.put(k, x);
            }
        });
        return d;
    }

    static double reconcilesStarted(int port) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith("operator_sdk_reconciliations_started_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    /**
     * A fake stand-in for the trainers of running pods, for the load test only: one HTTP listener per pod IP (on
     * loopback) answering {@code GET /progress} with a report of the trainer's Running phase whose step, loss, samples
     * and lastStepAt move with every answer, as a training trainer's do.
     */
    static final class FakeTrainerEndpoints implements AutoCloseable {
        private final List<com.sun.net.httpserver.HttpServer> servers = new ArrayList<>();
        private final ExecutorService executor = Executors.newFixedThreadPool(4);
        private final AtomicLong answers = new AtomicLong();
        private final long started = System.nanoTime();
        private final com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();

        FakeTrainerEndpoints(List<String> ips, int port) throws IOException {
            for (String ip : ips) {
                var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress(ip, port), 16);
                server.setExecutor(executor);
                server.createContext("/progress", exchange -> {
                    byte[] body = json.writeValueAsBytes(report());
                    exchange.getResponseHeaders().add("Content-Type", "application/json");
                    exchange.sendResponseHeaders(200, body.length);
                    try (var os = exchange.getResponseBody()) {
                        os.write(body);
                    }
                    answers.incrementAndGet();
                });
                server.start();
                servers.add(server);
            }
        }

        private dev.goodput.api.status.TrainerReport report() {
            double seconds = (System.nanoTime() - started) / 1e9;
            var r = new dev.goodput.api.status.TrainerReport();
            r.phase = dev.goodput.api.status.TrainerPhase.Running;
            r.attempt = 1;
            r.progress = new dev.goodput.api.status.Progress();
            r.progress.step = (long) (seconds * 10);
            r.progress.totalSteps = 1_000_000L;
            r.progress.samples = r.progress.step * 128;
            r.progress.samplesPerSecond = 1280.0;
            r.progress.loss = 1.0 / (1 + seconds);
            r.progress.lastStepAt = Instant.now().toString();
            r.trainingSeconds = seconds;
            r.startupSeconds = 3.0;
            return r;
        }

        long answers() {
            return answers.get();
        }

        @Override
        public void close() {
            servers.forEach(s -> s.stop(0));
            executor.shutdownNow();
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
        sb.append("Operator: `").append(System.getProperty("goodput.bench.operatorJar", "operator/target/quarkus-app/quarkus-run.jar"))
                .append("` as its own process, `").append(javaOpts)
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
        sb.append("\nWhere the time goes: the apiserver's write requests from the first create until the last pod existed"
                + " (its `apiserver_request_total`, every verb but GET, LIST and WATCH), per job, and the apiserver's CPU"
                + " per write:\n");
        for (Result r : results) {
            double total = r.writes().values().stream().mapToDouble(Double::doubleValue).sum();
            sb.append(String.format(Locale.ROOT, "\n- %d jobs: %.0f writes, %.2f per job, %.2f ms apiserver CPU per write, %.0f writes/s over the"
                    + " makespan:", r.jobs(), total, total / r.jobs(), 1000 * r.apiserverCpu() / Math.max(1, total),
                    total / Math.max(0.001, r.makespan())));
            r.writes().forEach((k, v) -> sb.append(String.format(Locale.ROOT, " `%s` %.2f,", k, v / r.jobs())));
            sb.setLength(sb.length() - 1);
        }
        sb.append("\n\nJOSDK reconciliations (warm-up included): ");
        results.forEach(r -> sb.append("\n- ").append(r.jobs()).append(" jobs: ").append(r.reconciles()));
        sb.append("\n");
        return sb.toString();
    }
}
