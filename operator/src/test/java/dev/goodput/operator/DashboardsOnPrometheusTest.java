package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.JobPhase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.harness.FakeOpenCostExporter;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.RealPrometheus;
import dev.goodput.operator.harness.Repo;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TextEndpoint;
import dev.goodput.operator.harness.TrainerJar;
import dev.goodput.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every query of the chart's three dashboards, run by a real Prometheus over what the real components exported: the
 * operator's registry (priced by the chart's pricing file), two real trainers under the stand-in kubelet (one
 * preempted, one reaching its target) labelled as the chart's PodMonitor labels them, and OpenCost's node prices from
 * a fake exporter. Each query must be valid PromQL to Prometheus itself and return data over the run, except the few
 * listed with the reason; key panels must show the figures in status. The Prices variable must switch the spend
 * panels between the price table and OpenCost.
 */
@ExtendWith(RealApiServer.class)
class DashboardsOnPrometheusTest {
    static final String NODE = "prom-node";
    static final double OPENCOST_GPU_HOURLY = 3.0;
    static final double OPENCOST_CPU_HOURLY = 0.04;
    static final ObjectMapper JSON = new ObjectMapper();
    /** Panels that stay empty here, and why. Key: dashboard file / panel title / refId. */
    static final Map<String, String> EMPTY_HERE = Map.of(
            "goodput-efficiency.json/Device memory by job/A", "CPU trainers report no device memory");

    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;
    static PrometheusMeterRegistry registry;
    static TextEndpoint operatorMetrics;
    static FakeOpenCostExporter fakeOpenCost;
    static RealPrometheus prometheus;

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) throws Exception {
        ns = api.createNamespace(client, "dash");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName(NODE).gpus(2)
                // Labelled as a platform team labels its GPU spot nodes, so gpuType and spot can place the pods here.
                .nodeLabel("goodput.dev/gpu-type", "nvidia-h100-80gb").nodeLabel("goodput.dev/capacity-type", "spot")
                .workDir(work.resolve("node"))
                .image(OperatorSettings.DEFAULT_IMAGE, TrainerJar.entrypoint()).start();
        Path pricing = Files.writeString(work.resolve("pricing.yaml"), """
                gpu:
                  nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}
                """);
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        operator = new InProcessOperator(client, ns, OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)).withStatusInterval(Duration.ofSeconds(1)),
                PriceTable.fromEnvironment(Map.of(PriceTable.ENV, pricing.toString())),
                new OperatorMetrics(registry));
        operatorMetrics = new TextEndpoint("/q/metrics", registry::scrape);
        fakeOpenCost = new FakeOpenCostExporter(Map.of(NODE, new double[] {OPENCOST_GPU_HOURLY, OPENCOST_CPU_HOURLY}));
        // As the chart's ServiceMonitor (honorLabels: the per-job namespace and job labels stay) and OpenCost's own
        // scrape config (honor_labels: true) have it.
        prometheus = RealPrometheus.start(work.resolve("prometheus"), Map.of(
                "goodput-operator", new RealPrometheus.Target(operatorMetrics.address(), "/q/metrics", true, Map.of()),
                "opencost", new RealPrometheus.Target(fakeOpenCost.address(), "/metrics", true, Map.of())));
        // The PodMonitor's relabelings: pod labels goodput.dev/job → job, goodput.dev/attempt → attempt, node name → node.
        kubelet.onStatusWritten(pod -> {
            if (pod.getStatus() != null && pod.getStatus().getPodIP() != null && pod.getMetadata().getLabels() != null
                    && pod.getMetadata().getLabels().containsKey(Labels.JOB)) {
                prometheus.addPod(pod.getStatus().getPodIP() + ":9400", Map.of(
                        "namespace", pod.getMetadata().getNamespace(),
                        "job", pod.getMetadata().getLabels().get(Labels.JOB),
                        "attempt", pod.getMetadata().getLabels().getOrDefault(Labels.ATTEMPT, ""),
                        "node", pod.getSpec().getNodeName(),
                        "pod", pod.getMetadata().getName()));
            }
        });
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {operator, kubelet, prometheus, operatorMetrics, fakeOpenCost}) {
            try {
                if (c != null) c.close();
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    static TrainingJob job(KubernetesClient client, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    /** One dashboard query with its place. */
    record Query(String dashboard, String panel, String refId, String expr) {
        String key() {
            return dashboard + "/" + panel + "/" + refId;
        }
    }

    static List<Query> queries() throws Exception {
        List<Query> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(Repo.root().resolve("helm/goodput/dashboards"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".json")).sorted().toList()) {
                for (JsonNode panel : JSON.readTree(f.toFile()).path("panels")) {
                    for (JsonNode t : panel.path("targets")) {
                        out.add(new Query(f.getFileName().toString(), panel.path("title").asText(), t.path("refId").asText(),
                                t.path("expr").asText()));
                    }
                }
            }
        }
        return out;
    }

    /** Grafana's variables as a user picks them: this namespace, one job, one price source. */
    static String substitute(String expr, String jobName, int prices, Duration range) {
        return expr.replace("$namespace", ns).replace("$job", jobName).replace("$prices", String.valueOf(prices))
                .replace("$__rate_interval", "5s").replace("$__range", range.toSeconds() + "s");
    }

    static List<JsonNode> series(JsonNode response) {
        List<JsonNode> out = new ArrayList<>();
        response.at("/data/result").forEach(out::add);
        return out;
    }

    static double instant(String promql, Instant at) {
        JsonNode r = prometheus.query(promql, at);
        assertThat(r.path("status").asText()).as("%s: %s", promql, r).isEqualTo("success");
        List<JsonNode> s = series(r);
        assertThat(s).as("%s at %s", promql, at).hasSize(1);
        return s.get(0).at("/value/1").asDouble();
    }

    @Test
    void everyDashboardQueryRunsOnPrometheusAndShowsTheFiguresInStatus(KubernetesClient client) throws Exception {
        // The preempted job trains 20 s in all: long enough that the fleet dashboard's 5 s subquery (spend at OpenCost
        // prices) samples its pods several times; the targeted one ends within seconds.
        Instant t0 = Instant.now().minusSeconds(2);
        for (String yaml : List.of("""
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: preempted}
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 256}
                  training: {maxDuration: 20s, globalBatchSize: 64, batchSize: 64}
                  checkpoint: {interval: 1s}
                  resources: {gpus: 1, gpuType: nvidia-h100-80gb, spot: true}
                """, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata: {name: targeted}
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 512}
                  training: {epochs: 20, globalBatchSize: 64, batchSize: 64}
                  target: {metric: accuracy, value: 0.7}
                  resources: {gpus: 1, gpuType: nvidia-h100-80gb}
                """)) {
            client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal(yaml, TrainingJob.class)).create();
        }
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> job(client, "preempted").getStatus() != null && job(client, "preempted").getStatus().lastCheckpoint != null);
        // Let Prometheus scrape attempt 1 a few times before it goes.
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(500)).until(() -> series(prometheus.query(
                "goodput_trainer_samples_total{job=\"preempted\", attempt=\"1\"}[3s]", Instant.now()))
                .stream().anyMatch(s -> s.path("values").size() >= 3));
        assertThat(kubelet.evict(ns, "preempted-1")).isTrue();
        for (String name : List.of("preempted", "targeted")) {
            await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(300))
                    .until(() -> job(client, name).getStatus().phase == JobPhase.Succeeded);
        }
        TrainingJobStatus preempted = job(client, "preempted").getStatus();
        TrainingJobStatus targeted = job(client, "targeted").getStatus();
        assertThat(preempted.preemptions).isEqualTo(1);
        assertThat(targeted.timeToTargetSeconds).as("the target was reached").isNotNull();
        // Until Prometheus has scraped the operator's final figures.
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> assertThat(instant(
                "sum(goodput_trainingjob_cost_dollars{namespace=\"" + ns + "\"})", Instant.now()))
                .isEqualTo(job(client, "preempted").getStatus().cost + job(client, "targeted").getStatus().cost, within(1e-9)));
        preempted = job(client, "preempted").getStatus();
        targeted = job(client, "targeted").getStatus();
        Instant end = Instant.now();
        Duration range = Duration.between(t0, end).plusSeconds(1);

        // 1. Every query is valid PromQL and has data over the run (for either job, under either price source).
        List<String> problems = new ArrayList<>();
        Map<String, Boolean> hasData = new TreeMap<>();
        Map<String, Set<Integer>> dataUnderPrices = new TreeMap<>();
        List<Query> queries = queries();
        for (Query q : queries) {
            for (String jobName : List.of("preempted", "targeted")) {
                for (int prices : new int[] {0, 1}) {
                    String promql = substitute(q.expr(), jobName, prices, range);
                    JsonNode r = prometheus.queryRange(promql, t0, end, Duration.ofSeconds(1));
                    if (!"success".equals(r.path("status").asText())) {
                        problems.add(q.key() + ": " + r.path("error").asText() + " in " + promql);
                        continue;
                    }
                    boolean data = !series(r).isEmpty();
                    hasData.merge(q.key(), data, Boolean::logicalOr);
                    if (data) dataUnderPrices.computeIfAbsent(q.key(), k -> new TreeSet<>()).add(prices);
                }
            }
        }
        assertThat(problems).as("queries Prometheus refused").isEmpty();
        Set<String> empty = new TreeSet<>();
        hasData.forEach((k, v) -> { if (!v) empty.add(k); });
        assertThat(empty).as("queries without data over the run\n%s", prometheus.log())
                .containsExactlyInAnyOrderElementsOf(EMPTY_HERE.keySet());

        // 2. The Prices variable: queries gated on it have data under their own price source only.
        for (Query q : queries) {
            if (q.expr().contains("vector($prices) == 0")) {
                assertThat(dataUnderPrices.get(q.key())).as(q.key()).containsExactly(0);
            } else if (q.expr().contains("vector($prices) == 1")) {
                assertThat(dataUnderPrices.get(q.key())).as(q.key()).containsExactly(1);
            }
        }

        // 3. Figures: the panels show what status says.
        Map<String, Query> byKey = new TreeMap<>();
        queries.forEach(q -> byKey.put(q.key(), q));
        java.util.function.BiFunction<String, String, Double> panel = (key, jobName) ->
                instant(substitute(byKey.get(key).expr(), jobName, 0, range), end);
        assertThat(panel.apply("goodput-fleet-cost.json/Total cost/A", "")).isEqualTo(preempted.cost + targeted.cost, within(1e-9));
        assertThat(panel.apply("goodput-fleet-cost.json/Preemptions/A", "")).isEqualTo(1.0);
        assertThat(panel.apply("goodput-fleet-cost.json/Cost lost to preemption/A", ""))
                .isEqualTo(preempted.accounting.badputCost.preemption + targeted.accounting.badputCost.preemption, within(1e-9));
        assertThat(panel.apply("goodput-job.json/Cost/A", "preempted")).isEqualTo(preempted.cost, within(1e-9));
        assertThat(panel.apply("goodput-job.json/GPU-hours/A", "preempted")).isEqualTo(preempted.gpuSeconds / 3600, within(1e-9));
        assertThat(panel.apply("goodput-job.json/Time to target/A", "targeted")).isEqualTo(targeted.timeToTargetSeconds);
        assertThat(panel.apply("goodput-job.json/Cost to target/A", "targeted")).isEqualTo(targeted.costToTarget, within(1e-9));
        double badput = preempted.accounting.badputSeconds.asMap().values().stream().mapToDouble(Double::doubleValue).sum();
        assertThat(panel.apply("goodput-job.json/Goodput ratio/A", "preempted"))
                .isEqualTo(preempted.accounting.goodputSeconds / (preempted.accounting.goodputSeconds + badput), within(1e-9));

        // 4. OpenCost prices: while a trainer pod runs, its spend rate is its GPUs and CPUs at the node's prices; the
        // namespace's rate is that times the pods running at that moment (one or two here).
        JsonNode cpus = prometheus.queryRange("max(goodput_trainer_cpus{namespace=\"" + ns + "\"})", t0, end, Duration.ofSeconds(1));
        double perPod = 1 * OPENCOST_GPU_HOURLY + series(cpus).get(0).at("/values/0/1").asDouble() * OPENCOST_CPU_HOURLY;
        JsonNode rate = prometheus.queryRange(substitute(byKey.get("goodput-fleet-cost.json/Spend rate by namespace ($ per hour)/B")
                .expr(), "", 1, range), t0, end, Duration.ofSeconds(1));
        List<Double> values = new ArrayList<>();
        series(rate).get(0).path("values").forEach(v -> values.add(v.get(1).asDouble()));
        assertThat(values).isNotEmpty().allSatisfy(v -> assertThat(Math.abs(v / perPod - Math.rint(v / perPod)))
                .as("%s $/h is a whole number of pods at %s $/h", v, perPod).isLessThan(1e-9));
        assertThat(values).anySatisfy(v -> assertThat(v).isEqualTo(perPod, within(1e-9)));
    }
}
