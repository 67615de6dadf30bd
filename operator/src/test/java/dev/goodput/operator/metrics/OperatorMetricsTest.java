package dev.goodput.operator.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.AttemptOutcome;
import com.fasterxml.jackson.databind.JsonNode;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.harness.PrometheusText;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheus.PrometheusConfig;
import io.micrometer.prometheus.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OperatorMetricsTest {

    /** Parses Prometheus text with prometheus_client's own parser: {family: {type, samples: [{name, labels, value}]}}. */
    static JsonNode parse(String text, Path dir) {
        return PrometheusText.parse(text);
    }

    /** Samples of every goodput_trainingjob_* family: "name{k=v,...}" (labels sorted) → value. */
    static Map<String, Double> samples(JsonNode families) {
        return PrometheusText.samples(families, "goodput_trainingjob_");
    }

    /** The scripted three-attempt job of CostLedgerTest, as a spec and a status the ledger has filled. */
    static TrainingJobStatus status() {
        TrainingJobStatus s = new TrainingJobStatus();
        s.phase = JobPhase.Succeeded;
        s.attempts = 3;
        s.preemptions = 1;
        s.failures = 1;
        s.completionTime = "2025-01-01T12:00:05Z";
        List<AttemptRecord> h = new ArrayList<>(dev.goodput.operator.cost.CostLedgerTest.thenSucceeded());
        s.attemptHistory = h;
        CostLedger.compute(s, Instant.parse("2025-01-01T10:00:00Z"), Instant.parse("2025-01-01T13:00:00Z")).applyTo(s);
        return s;
    }

    static TrainingJobSpec spec(String model, int gpus, String type, boolean spot) {
        TrainingJobSpec spec = new TrainingJobSpec();
        spec.model.architecture = model;
        spec.resources.gpus = gpus;
        spec.resources.gpuType = type;
        spec.resources.spot = spot;
        return spec;
    }

    @Test
    void namesLabelsAndValuesParseWithThePrometheusClient(@TempDir Path dir) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        OperatorMetrics metrics = new OperatorMetrics(registry);
        metrics.update(JobSnapshot.of("ml", "resnet", spec("resnet50", 4, "nvidia-h100-80gb", true), status()));
        TrainingJobStatus pending = new TrainingJobStatus();
        pending.phase = JobPhase.Pending;
        metrics.update(JobSnapshot.of("ml", "cpu-job", spec("cnn", 0, null, false), pending));

        JsonNode families = parse(registry.scrape(), dir);
        Set<String> names = new HashSet<>();
        families.fieldNames().forEachRemaining(n -> { if (n.startsWith("goodput_trainingjob_")) names.add(n); });
        assertThat(names).containsExactlyInAnyOrderElementsOf(OperatorMetrics.NAMES);
        families.fields().forEachRemaining(f -> {
            if (f.getKey().startsWith("goodput_trainingjob_")) assertThat(f.getValue().get("type").asText()).as(f.getKey()).isEqualTo("gauge");
        });

        Map<String, Double> v = samples(families);
        String job = "job=resnet, namespace=ml";
        assertThat(v).containsEntry("goodput_trainingjob_info{capacity=spot, gpu_type=nvidia-h100-80gb, job=resnet, model=resnet50, namespace=ml}", 1.0)
                .containsEntry("goodput_trainingjob_info{capacity=on-demand, gpu_type=none, job=cpu-job, model=cnn, namespace=ml}", 1.0)
                .containsEntry("goodput_trainingjob_phase{" + job + ", phase=Succeeded}", 1.0)
                .containsEntry("goodput_trainingjob_phase{" + job + ", phase=Running}", 0.0)
                .containsEntry("goodput_trainingjob_phase{job=cpu-job, namespace=ml, phase=Pending}", 1.0)
                .containsEntry("goodput_trainingjob_cost_dollars{" + job + "}", 19.055556)
                .containsEntry("goodput_trainingjob_gpu_seconds{" + job + "}", 27440.0)
                .containsEntry("goodput_trainingjob_preemptions{" + job + "}", 1.0)
                .containsEntry("goodput_trainingjob_failures{" + job + "}", 1.0)
                .containsEntry("goodput_trainingjob_time_to_target_seconds{" + job + "}", 7200.0)
                .containsEntry("goodput_trainingjob_cost_to_target_dollars{" + job + "}", 19.055556)
                .containsEntry("goodput_trainingjob_goodput_seconds{" + job + "}", 5602.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=scheduling, " + job + "}", 310.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=startup, " + job + "}", 145.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=tuning, " + job + "}", 90.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=checkpointing, " + job + "}", 95.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=preemption, " + job + "}", 570.0)
                .containsEntry("goodput_trainingjob_badput_seconds{cause=failed, " + job + "}", 388.0)
                .containsEntry("goodput_trainingjob_badput_cost_dollars{cause=scheduling, " + job + "}", 0.0)
                .containsEntry("goodput_trainingjob_badput_cost_dollars{cause=preemption, " + job + "}", 1.583333)
                .containsEntry("goodput_trainingjob_cost_dollars{job=cpu-job, namespace=ml}", 0.0);
        // One phase series per known phase and job; the target series only once the target is reached.
        assertThat(v.keySet().stream().filter(k -> k.startsWith("goodput_trainingjob_phase{") && k.contains("job=resnet,")))
                .hasSize(OperatorMetrics.PHASES.size());
        assertThat(v.keySet()).noneMatch(k -> k.startsWith("goodput_trainingjob_time_to_target_seconds{job=cpu-job"))
                .noneMatch(k -> k.startsWith("goodput_trainingjob_cost_to_target_dollars{job=cpu-job"));
    }

    /** A clock the test moves. */
    static final class MovingClock extends java.time.Clock {
        Instant now;

        MovingClock(Instant now) {
            this.now = now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return java.time.ZoneOffset.UTC;
        }

        @Override
        public java.time.Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void costIsComputedWhenReadSoItMovesBetweenReconciles() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Instant submitted = Instant.parse("2026-01-01T00:00:00Z");
        MovingClock clock = new MovingClock(submitted.plusSeconds(100));
        OperatorMetrics metrics = new OperatorMetrics(registry, clock);
        TrainingJobStatus s = new TrainingJobStatus();
        s.phase = JobPhase.Running;
        AttemptRecord r = new AttemptRecord();
        r.attempt = 1;
        r.outcome = AttemptOutcome.Running;
        r.created = submitted.toString();
        r.scheduled = submitted.toString();
        r.started = submitted.toString();
        r.gpus = 1;
        r.pricePerHour = 36.0; // a cent a second
        s.attemptHistory = new ArrayList<>(List.of(r));
        metrics.update("ns", "j", spec("cnn", 1, "nvidia-l4-24gb", false), s, submitted);
        var cost = registry.get(OperatorMetrics.COST).tags("namespace", "ns", "job", "j").gauge();
        var gpuSeconds = registry.get(OperatorMetrics.GPU_SECONDS).gauge();
        assertThat(cost.value()).isEqualTo(1.0);
        assertThat(gpuSeconds.value()).isEqualTo(100.0);

        clock.now = submitted.plusSeconds(100).plusMillis(500);
        assertThat(cost.value()).as("within a second of the last computation: the same snapshot").isEqualTo(1.0);
        clock.now = submitted.plusSeconds(400);
        assertThat(cost.value()).as("no reconcile in between").isEqualTo(4.0);
        assertThat(gpuSeconds.value()).isEqualTo(400.0);
        assertThat(s.cost).as("the status handed over is not written to").isNull();
    }

    @Test
    void updatesFollowStatusAndLabelChanges() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        OperatorMetrics metrics = new OperatorMetrics(registry);
        TrainingJobStatus s = new TrainingJobStatus();
        s.phase = JobPhase.Running;
        s.cost = 1.5;
        metrics.update(JobSnapshot.of("ns", "j", spec("cnn", 1, "nvidia-l4-24gb", false), s));
        assertThat(registry.get(OperatorMetrics.COST).tags("namespace", "ns", "job", "j").gauge().value()).isEqualTo(1.5);
        assertThat(registry.get(OperatorMetrics.PHASE).tags("phase", "Running").gauge().value()).isEqualTo(1.0);
        assertThat(registry.find(OperatorMetrics.TIME_TO_TARGET).gauges()).isEmpty();

        s.phase = JobPhase.Checkpointing;
        s.cost = 2.25;
        s.preemptions = 2;
        s.timeToTargetSeconds = 60.0;
        s.costToTarget = 2.0;
        metrics.update(JobSnapshot.of("ns", "j", spec("cnn", 1, "nvidia-l4-24gb", true), s));
        assertThat(registry.get(OperatorMetrics.COST).gauge().value()).isEqualTo(2.25);
        assertThat(registry.get(OperatorMetrics.PREEMPTIONS).gauge().value()).isEqualTo(2.0);
        assertThat(registry.get(OperatorMetrics.PHASE).tags("phase", "Running").gauge().value()).isZero();
        assertThat(registry.get(OperatorMetrics.PHASE).tags("phase", "Checkpointing").gauge().value()).isEqualTo(1.0);
        assertThat(registry.get(OperatorMetrics.TIME_TO_TARGET).gauge().value()).isEqualTo(60.0);
        assertThat(registry.get(OperatorMetrics.COST_TO_TARGET).gauge().value()).isEqualTo(2.0);
        // The info series moved to the new capacity: exactly one remains.
        assertThat(registry.find(OperatorMetrics.INFO).gauges()).singleElement()
                .satisfies(g -> assertThat(g.getId().getTag("capacity")).isEqualTo("spot"));
    }

    @Test
    void removeDeletesEveryOneOfTheJobsSeriesAndNoOtherJobs(@TempDir Path dir) throws Exception {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        OperatorMetrics metrics = new OperatorMetrics(registry);
        metrics.update(JobSnapshot.of("ml", "resnet", spec("resnet50", 4, "nvidia-h100-80gb", true), status()));
        metrics.update(JobSnapshot.of("ml", "other", spec("cnn", 0, null, false), new TrainingJobStatus()));
        assertThat(metrics.jobs()).containsExactlyInAnyOrder("ml/resnet", "ml/other");

        metrics.remove("ml", "resnet");
        metrics.remove("ml", "never-seen"); // harmless
        assertThat(metrics.jobs()).containsExactly("ml/other");
        assertThat(registry.getMeters()).noneMatch(m -> "resnet".equals(m.getId().getTag("job")));
        Map<String, Double> v = samples(parse(registry.scrape(), dir));
        assertThat(v.keySet()).noneMatch(k -> k.contains("job=resnet")).anyMatch(k -> k.contains("job=other"));

        metrics.remove("ml", "other");
        assertThat(registry.getMeters()).noneMatch(m -> m.getId().getName().startsWith("goodput_trainingjob_"));
        assertThat(registry.scrape()).doesNotContain("goodput_trainingjob_");

        // A job re-created under the same name starts again.
        metrics.update(JobSnapshot.of("ml", "resnet", spec("resnet50", 4, "nvidia-h100-80gb", true), new TrainingJobStatus()));
        assertThat(registry.get(OperatorMetrics.COST).tags("job", "resnet").gauge().value()).isZero();
    }

    @Test
    void exportsExactlyTheNamesListed() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        OperatorMetrics metrics = new OperatorMetrics(registry);
        metrics.update(JobSnapshot.of("ml", "resnet", spec("resnet50", 4, "nvidia-h100-80gb", true), status()));
        Map<String, Integer> byName = new HashMap<>();
        registry.getMeters().forEach(m -> byName.merge(m.getId().getName(), 1, Integer::sum));
        assertThat(byName.keySet()).containsExactlyInAnyOrderElementsOf(OperatorMetrics.NAMES);
        assertThat(byName).containsEntry(OperatorMetrics.BADPUT_SECONDS, 6).containsEntry(OperatorMetrics.INFO, 1);
    }
}
