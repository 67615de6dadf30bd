package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.JobPhase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.PrometheusText;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TrainerJar;
import dev.goodput.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8 end to end: the operator priced by a pricing file as the chart mounts it, the real trainer under the
 * stand-in kubelet, one eviction. While the trainer runs, its own /metrics (through the stand-in's port forward on the
 * pod IP) is scraped; after the job succeeds, the operator's Micrometer registry is scraped in Prometheus text. Both
 * are parsed by prometheus_client. The cost is checked against the pods' own timestamps, not only against status.
 */
@ExtendWith(RealApiServer.class)
class CostAndMetricsEndToEndTest {
    static final double PRICE = 2.5; // pricing.gpu.nvidia-h100-80gb.spot below, 1 GPU
    static final String JOB = "priced";
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;
    static PrometheusMeterRegistry registry;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) throws Exception {
        ns = api.createNamespace(client, "cost");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("cost-node").gpus(1)
                // Labelled as a platform team labels its GPU spot nodes, so gpuType and spot can place the pods here.
                .nodeLabel("goodput.dev/gpu-type", "nvidia-h100-80gb").nodeLabel("goodput.dev/capacity-type", "spot")
                .workDir(work.resolve("node"))
                .image(OperatorSettings.DEFAULT_IMAGE, TrainerJar.entrypoint()).start();
        // The chart's pricing ConfigMap, as the operator reads it: a file named by GOODPUT_PRICING_FILE.
        Path pricing = Files.writeString(work.resolve("pricing.yaml"), """
                gpu:
                  nvidia-h100-80gb: {onDemand: 6.88, spot: 2.5}
                cpuCoreHour: {onDemand: 0.0316, spot: 0.0095}
                memoryGiBHour: {onDemand: 0.0042, spot: 0.0013}
                """);
        PriceTable prices = PriceTable.fromEnvironment(Map.of(PriceTable.ENV, pricing.toString()));
        registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        operator = new InProcessOperator(client, ns, OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)).withStatusInterval(Duration.ofSeconds(1)),
                prices, new OperatorMetrics(registry));
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static TrainingJob job(KubernetesClient client) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(JOB).get();
    }

    static String get(URI uri) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as("GET %s", uri).isEqualTo(200);
        return r.body();
    }

    /** The operator's series of this job, parsed from its registry's Prometheus text. */
    static Map<String, Double> operatorSeries() {
        JsonNode families = PrometheusText.parse(registry.scrape());
        families.fields().forEachRemaining(f -> {
            if (f.getKey().startsWith("goodput_trainingjob_")) {
                assertThat(f.getValue().get("type").asText()).as(f.getKey()).isEqualTo("gauge");
            }
        });
        Map<String, Double> all = PrometheusText.samples(families, "goodput_trainingjob_");
        all.keySet().removeIf(k -> !k.contains("job=" + JOB + ","));
        return all;
    }

    static String key(String name, String... extraLabels) {
        var labels = new java.util.TreeMap<String, String>();
        labels.put("namespace", ns);
        labels.put("job", JOB);
        for (int i = 0; i < extraLabels.length; i += 2) labels.put(extraLabels[i], extraLabels[i + 1]);
        return name + labels.toString();
    }

    static double seconds(String from, String to) {
        return Duration.between(CostLedger.time(from), CostLedger.time(to)).toMillis() / 1000.0;
    }

    @Test
    void aPreemptedThenSuccessfulJobHasItsCostGpuSecondsAndPreemptionOnBothMetricsEndpoints(KubernetesClient client)
            throws Exception {
        TrainingJob created = client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal("""
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: priced
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 256}
                  training: {maxDuration: 6s, globalBatchSize: 64, batchSize: auto, memoryBudget: 1Gi}
                  checkpoint: {interval: 1s}
                  resources: {gpus: 1, gpuType: nvidia-h100-80gb, spot: true}
                """, TrainingJob.class)).create();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            TrainingJobStatus s = job(client).getStatus();
            assertThat(s.phase).isEqualTo(JobPhase.Running);
            assertThat(s.lastCheckpoint).isNotNull();
            assertThat(s.cost).as("billed from binding on").isPositive();
        });
        TrainingJobStatus running = job(client).getStatus();
        assertThat(running.attemptHistory).singleElement().satisfies(r -> {
            assertThat(r.outcome).isEqualTo(AttemptOutcome.Running);
            assertThat(r.pricePerHour).isEqualTo(PRICE);
            assertThat(r.capacity).isEqualTo("spot");
            assertThat(r.scheduled).isNotNull();
        });
        JobCondition priced = running.conditions.stream().filter(c -> "Priced".equals(c.type)).findFirst().orElseThrow();
        assertThat(priced.status).isEqualTo("True");
        assertThat(priced.message).contains("pricing.gpu.nvidia-h100-80gb.spot x 1");

        // The trainer's own /metrics, on the pod IP and container port, as a PodMonitor scrapes it.
        Pod pod1 = client.pods().inNamespace(ns).withName(JOB + "-1").get();
        URI base = URI.create("http://" + pod1.getStatus().getPodIP() + ":9400");
        TrainerReport before = Serialization.unmarshal(get(base.resolve("/progress")), TrainerReport.class);
        JsonNode trainer = PrometheusText.parse(get(base.resolve("/metrics")));
        TrainerReport after = Serialization.unmarshal(get(base.resolve("/progress")), TrainerReport.class);
        Map<String, Double> t = PrometheusText.samples(trainer, "goodput_trainer_");
        assertThat(trainer.get("goodput_trainer_samples").get("type").asText()).isEqualTo("counter");
        double samplesTotal = t.get("goodput_trainer_samples_total{}");
        double stepsTotal = t.get("goodput_trainer_steps_total{}");
        // Attempt 1 started fresh, so the process's counter is the run's samples, read between two /progress reads.
        assertThat(samplesTotal).isPositive().isBetween((double) before.progress.samples, (double) after.progress.samples);
        // The two counters are read one after the other while training goes on, at about a millisecond a step: a few
        // steps apart. Each step adds exactly one global batch.
        assertThat(samplesTotal % 64).as("whole global batches of 64").isZero();
        assertThat(samplesTotal).as("global batch 64").isCloseTo(64 * stepsTotal, within(64.0 * 20));
        assertThat(t).containsEntry("goodput_trainer_batch_size{kind=global}", 64.0);

        assertThat(kubelet.evict(ns, JOB + "-1")).isTrue();
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(300))
                .until(() -> job(client).getStatus().phase == JobPhase.Succeeded);

        TrainingJobStatus s = job(client).getStatus();
        assertThat(s.preemptions).isEqualTo(1);
        assertThat(s.failures).isNull();
        assertThat(s.attemptHistory).hasSize(2);
        AttemptRecord a1 = s.attemptHistory.get(0);
        AttemptRecord a2 = s.attemptHistory.get(1);
        assertThat(a1.outcome).isEqualTo(AttemptOutcome.Preempted);
        assertThat(a1.reason).isEqualTo("EvictionByEvictionAPI");
        assertThat(a2.outcome).isEqualTo(AttemptOutcome.Succeeded);
        assertThat(a2.reason).isEqualTo("Finished");
        assertThat(a2.startStep).as("attempt 2 resumed from attempt 1's checkpoint").isPositive()
                .isEqualTo(a1.checkpointStep);
        assertThat(a2.endStep).isEqualTo(s.progress.step);

        // Attempt 2's record has its pod's own times: binding and the container's end.
        Pod pod2 = client.pods().inNamespace(ns).withName(JOB + "-2").get();
        String bound2 = pod2.getStatus().getConditions().stream().filter(c -> "PodScheduled".equals(c.getType()))
                .findFirst().orElseThrow().getLastTransitionTime();
        String finished2 = pod2.getStatus().getContainerStatuses().get(0).getState().getTerminated().getFinishedAt();
        // (the stand-in kubelet re-stamps PodScheduled just after the apiserver's binding set it: within a second)
        assertThat(seconds(a2.scheduled, bound2)).isBetween(0.0, 1.0);
        assertThat(a2.ended).isEqualTo(finished2);
        assertThat(a2.created).isEqualTo(pod2.getMetadata().getCreationTimestamp());

        // Billed: binding → end of each attempt, 1 GPU at $2.50/hour.
        double billed = seconds(a1.scheduled, a1.ended) + seconds(a2.scheduled, a2.ended);
        assertThat(billed).isPositive();
        assertThat(s.gpuSeconds).isEqualTo(billed, within(1e-3));
        assertThat(s.cost).isPositive().isEqualTo(billed * PRICE / 3600, within(1e-6));
        assertThat(s.accounting.billedSeconds).isEqualTo(billed, within(1e-3));
        assertThat(s.accounting.wallSeconds).isEqualTo(seconds(created.getMetadata().getCreationTimestamp(), a2.ended),
                within(1e-3));
        double badput = s.accounting.badputSeconds.asMap().values().stream().mapToDouble(Double::doubleValue).sum();
        assertThat(s.accounting.goodputSeconds + badput).as("wall time split without gaps")
                .isEqualTo(s.accounting.wallSeconds, within(0.01));
        assertThat(s.timeToTargetSeconds).as("no target in the spec").isNull();
        // Badput by cause from what the trainer reported of each attempt: attempt 1 tuned its batch, attempt 2 took
        // it from the checkpoint; both started a JVM and waited for checkpoints (every second, and the final save).
        assertThat(a1.attempt).isEqualTo(1);
        assertThat(a1.tuningSeconds).as("attempt 1 tuned").isPositive();
        assertThat(a2.tuningSeconds).as("attempt 2 resumed with the checkpoint's batch").isZero();
        assertThat(a1.startupSeconds).isPositive();
        assertThat(a2.startupSeconds).isPositive();
        assertThat(a2.checkpointSeconds).isPositive();
        assertThat(s.accounting.badputSeconds.tuning).isEqualTo(a1.tuningSeconds, within(1e-3));
        assertThat(s.accounting.badputSeconds.startup).isGreaterThan(a1.startupSeconds + a2.startupSeconds - 1e-3);
        assertThat(s.accounting.badputSeconds.checkpointing).isPositive();
        assertThat(s.accounting.badputSeconds.preemption).as("the eviction's SIGTERM: its step finished and saved, none lost")
                .isZero();
        assertThat(s.accounting.badputSeconds.failed).isZero();

        // The operator's /q/metrics series, equal to status once the last reconcile has run.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            TrainingJobStatus now = job(client).getStatus();
            Map<String, Double> m = operatorSeries();
            assertThat(m).containsEntry(key(OperatorMetrics.COST), now.cost)
                    .containsEntry(key(OperatorMetrics.GPU_SECONDS), now.gpuSeconds)
                    .containsEntry(key(OperatorMetrics.PREEMPTIONS), 1.0)
                    .containsEntry(key(OperatorMetrics.FAILURES), 0.0)
                    .containsEntry(key(OperatorMetrics.PHASE, "phase", "Succeeded"), 1.0)
                    .containsEntry(key(OperatorMetrics.PHASE, "phase", "Running"), 0.0)
                    .containsEntry(key(OperatorMetrics.INFO, "model", "mlp", "gpu_type", "nvidia-h100-80gb",
                            "capacity", "spot"), 1.0)
                    .containsEntry(key(OperatorMetrics.GOODPUT_SECONDS), now.accounting.goodputSeconds)
                    .containsEntry(key(OperatorMetrics.BADPUT_SECONDS, "cause", "preemption"),
                            now.accounting.badputSeconds.preemption)
                    .doesNotContainKey(key(OperatorMetrics.TIME_TO_TARGET));
        });
        assertThat(operatorSeries().get(key(OperatorMetrics.COST))).isPositive();

        // Deleted, the job's series go.
        client.resource(created).delete();
        await().atMost(Duration.ofSeconds(30)).until(() -> job(client) == null);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(operatorSeries()).isEmpty());
        assertThat(registry.scrape()).doesNotContain("job=\"" + JOB + "\"");
    }
}
