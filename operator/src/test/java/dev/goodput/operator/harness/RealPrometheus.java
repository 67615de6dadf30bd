package dev.goodput.operator.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus server (3.16, built by {@code .ci/prometheus-binary.sh} and linked by {@code .ci/install-deps.sh}
 * as {@code ~/.cache/goodput/prometheus/bin/prometheus}, or {@code $GOODPUT_PROMETHEUS}) scraping every second: static targets
 * given at start, and trainer pods added later through a file_sd file, labelled as the chart's PodMonitor labels them
 * (namespace, job, attempt, node, pod). Queries go through its HTTP API, so PromQL is judged by Prometheus itself.
 */
public final class RealPrometheus implements AutoCloseable {
    public static final String BINARY_ENV = "GOODPUT_PROMETHEUS";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private final Process process;
    private final URI base;
    private final Path podTargets;
    private final Path log;
    private final Map<String, ObjectNode> pods = new LinkedHashMap<>();

    /** A scrape target: host:port, path, whether the scraped labels win over the target's, and target labels. */
    public record Target(String address, String path, boolean honorLabels, Map<String, String> labels) {}

    public static Path binary() {
        String env = System.getenv(BINARY_ENV);
        Path p = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "goodput", "prometheus", "bin", "prometheus");
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException("No prometheus binary at " + p + ". The dashboard tests evaluate every query on a"
                    + " real Prometheus and do not skip without one: run .ci/install-deps.sh (it builds one and links it"
                    + " there), or set " + BINARY_ENV + ".");
        }
        return p;
    }

    public static RealPrometheus start(Path dir, Map<String, Target> staticTargets) throws IOException, InterruptedException {
        return new RealPrometheus(dir, staticTargets);
    }

    private RealPrometheus(Path dir, Map<String, Target> staticTargets) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        podTargets = dir.resolve("trainer-pods.json");
        Files.writeString(podTargets, "[]");
        StringBuilder config = new StringBuilder("""
                global:
                  scrape_interval: 1s
                  scrape_timeout: 900ms
                scrape_configs:
                  - job_name: trainer-pods
                    file_sd_configs:
                      - files: ['%s']
                        refresh_interval: 1s
                """.formatted(podTargets));
        staticTargets.forEach((name, t) -> {
            config.append("  - job_name: ").append(name).append('\n')
                    .append("    metrics_path: ").append(t.path()).append('\n')
                    .append("    honor_labels: ").append(t.honorLabels()).append('\n')
                    .append("    static_configs:\n      - targets: ['").append(t.address()).append("']\n");
            if (!t.labels().isEmpty()) {
                config.append("        labels:\n");
                t.labels().forEach((k, v) -> config.append("          ").append(k).append(": '").append(v).append("'\n"));
            }
        });
        Path configFile = Files.writeString(dir.resolve("prometheus.yml"), config);
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        base = URI.create("http://127.0.0.1:" + port);
        log = dir.resolve("prometheus.log");
        process = new ProcessBuilder(binary().toString(), "--config.file=" + configFile,
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
                "--log.level=warn")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(base.resolve("/-/ready")).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) break;
            } catch (IOException notYet) {
                // starting
            }
            if (!process.isAlive() || System.nanoTime() > deadline) {
                throw new IllegalStateException("prometheus did not become ready:\n" + Files.readString(log));
            }
            Thread.sleep(200);
        }
    }

    /** Adds a trainer pod as the PodMonitor would find it. */
    public synchronized void addPod(String address, Map<String, String> labels) {
        if (pods.containsKey(address)) return; // pod IPs are not reused here, and a pod's labels do not change
        ObjectNode group = JSON.createObjectNode();
        group.putArray("targets").add(address);
        ObjectNode l = group.putObject("labels");
        labels.forEach(l::put);
        pods.put(address, group);
        writePods();
    }

    private void writePods() {
        ArrayNode all = JSON.createArrayNode();
        pods.values().forEach(all::add);
        try {
            Path tmp = podTargets.resolveSibling(podTargets.getFileName() + ".tmp");
            Files.writeString(tmp, JSON.writeValueAsString(all));
            Files.move(tmp, podTargets, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** GET /api/v1/query at a time; the whole response ({status, data: {resultType, result}} or {status, error}). */
    public JsonNode query(String promql, Instant at) {
        return get("/api/v1/query?query=" + enc(promql) + "&time=" + seconds(at));
    }

    /** GET /api/v1/query_range; the whole response. */
    public JsonNode queryRange(String promql, Instant start, Instant end, Duration step) {
        return get("/api/v1/query_range?query=" + enc(promql) + "&start=" + seconds(start) + "&end=" + seconds(end)
                + "&step=" + step.toMillis() / 1000.0);
    }

    /** The targets' scrape health, e.g. to wait until a pod has been scraped. */
    public JsonNode targets() {
        return get("/api/v1/targets?state=active");
    }

    public String log() {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private JsonNode get(String pathAndQuery) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery))
                    .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
            return JSON.readTree(r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private static String seconds(Instant t) {
        return String.format(java.util.Locale.ROOT, "%.3f", t.toEpochMilli() / 1000.0);
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
