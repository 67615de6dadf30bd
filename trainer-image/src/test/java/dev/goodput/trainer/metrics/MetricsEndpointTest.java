package dev.goodput.trainer.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.loop.ProgressListener;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Scrapes a training run's /metrics and /progress while it runs, and parses them with the Prometheus client's parser. */
class MetricsEndpointTest {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Parses Prometheus text with prometheus_client's own parser; returns {family: {type, samples: [{name, labels, value}]}}. */
    static JsonNode parse(String text, Path dir) throws Exception {
        Path in = Files.writeString(dir.resolve("metrics.txt"), text);
        String script = """
                import json, sys
                from prometheus_client.parser import text_string_to_metric_families
                out = {}
                for f in text_string_to_metric_families(open(sys.argv[1]).read()):
                    out[f.name] = {"type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
                print(json.dumps(out))
                """;
        Process p = new ProcessBuilder("python3", "-c", script, in.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return JSON.readTree(out);
    }

    @Test
    void metricsAndProgressWhileTraining(@TempDir Path dir) throws Exception {
        List<String> scraped = new ArrayList<>();
        List<String> progress = new ArrayList<>();
        HttpClient http = HttpClient.newHttpClient();
        String yaml = TestJobs.yaml("cnn", 3200, "maxSteps: 100").replace("  training:",
                "  target:\n    metric: accuracy\n    value: 0.99\n    evalEverySteps: 50\n  training:");
        TrainerRun[] run = new TrainerRun[1];
        ProgressListener scraper = new ProgressListener() {
            public void onStep(TrainerReport r) {}
            public void onMessage(String m) {}
            public void onFinish(TrainerReport r) {}
            public void onEvaluation(TrainerReport r, double acc, double loss, double s) {
                if (r.progress.step != 50) return;
                try {
                    String base = "http://127.0.0.1:" + run[0].metricsPort();
                    scraped.add(http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body());
                    progress.add(http.send(HttpRequest.newBuilder(URI.create(base + "/progress")).build(), HttpResponse.BodyHandlers.ofString()).body());
                    assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/healthz")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            }
        };
        var settings = TestJobs.settings(TestJobs.manifest(yaml), dir);
        settings = new dev.goodput.trainer.config.RunSettings(settings.manifest(), settings.manifestPath(), dir, "job", 0, 0,
                null, false, null, false, null, settings.world());
        run[0] = new TrainerRun(settings, new PrintStream(new ByteArrayOutputStream())).addListener(scraper);
        run[0].run();

        assertThat(scraped).hasSize(1);
        JsonNode m = parse(scraped.get(0), dir);
        assertThat(m.get("goodput_trainer_samples").get("type").asText()).isEqualTo("counter");
        assertThat(value(m, "goodput_trainer_samples", "goodput_trainer_samples_total")).isEqualTo(50 * 64);
        assertThat(value(m, "goodput_trainer_steps", "goodput_trainer_steps_total")).isEqualTo(50);
        assertThat(m.get("goodput_trainer_step_seconds").get("type").asText()).isEqualTo("histogram");
        List<String> phases = new ArrayList<>();
        m.get("goodput_trainer_step_seconds").get("samples").forEach(s -> {
            if (s.get("name").asText().endsWith("_count")) {
                phases.add(s.get("labels").get("phase").asText());
                assertThat(s.get("value").asDouble()).isEqualTo(50);
            }
        });
        assertThat(phases).containsExactlyInAnyOrder("data", "compute", "optimizer");
        assertThat(m.has("goodput_trainer_loss")).isTrue();
        assertThat(m.has("goodput_trainer_metric")).isTrue();
        assertThat(m.has("goodput_trainer_batch_size")).isTrue();
        assertThat(m.has("goodput_trainer_checkpoint_seconds")).isTrue();
        assertThat(m.has("goodput_trainer_checkpoint_bytes")).isTrue();
        assertThat(value(m, "goodput_trainer_memory_bytes", "goodput_trainer_memory_bytes")).isGreaterThan(50e6);
        assertThat(value(m, "goodput_trainer_gpus", "goodput_trainer_gpus")).isZero();
        assertThat(value(m, "goodput_trainer_cpus", "goodput_trainer_cpus")).isEqualTo(Runtime.getRuntime().availableProcessors());
        // Exactly the names the dashboards may use (MetricNames.TRAINER): the scrape names counters without _total.
        List<String> families = new ArrayList<>();
        m.fields().forEachRemaining(f -> families.add(f.getValue().get("type").asText().equals("counter")
                ? f.getKey() + "_total" : f.getKey()));
        assertThat(families).containsExactlyInAnyOrderElementsOf(dev.goodput.api.metrics.MetricNames.TRAINER);
        dev.goodput.api.metrics.MetricNames.TRAINER_HISTOGRAMS.forEach(h -> assertThat(m.get(h).get("type").asText()).isEqualTo("histogram"));

        JsonNode p = JSON.readTree(progress.get(0));
        assertThat(p.get("phase").asText()).isEqualTo("Running");
        assertThat(p.get("progress").get("step").asLong()).isEqualTo(50);
        assertThat(p.get("tunedBatch").get("global").asInt()).isEqualTo(64);
    }

    static double value(JsonNode metrics, String family, String sample) {
        for (JsonNode s : metrics.get(family).get("samples")) {
            if (s.get("name").asText().equals(sample)) return s.get("value").asDouble();
        }
        throw new AssertionError("no sample " + sample + " in " + family);
    }
}
