package dev.goodput.operator.harness;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Parses Prometheus text exposition with the Prometheus client's own parser (Python {@code prometheus_client},
 * Debian's python3-prometheus-client), not a regex: a scrape that does not parse fails the test with the parser's
 * message. {@link #parse} returns {@code {family: {type, samples: [{name, labels, value}]}}}.
 */
public final class PrometheusText {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SCRIPT = """
            import json, sys
            from prometheus_client.parser import text_string_to_metric_families
            out = {}
            for f in text_string_to_metric_families(open(sys.argv[1]).read()):
                out[f.name] = {"type": f.type, "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples]}
            print(json.dumps(out))
            """;

    private PrometheusText() {}

    public static JsonNode parse(String text) {
        Path in = null;
        try {
            in = Files.createTempFile("scrape", ".txt");
            Files.writeString(in, text);
            Process p = new ProcessBuilder("python3", "-c", SCRIPT, in.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes());
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("prometheus_client's parser timed out");
            }
            if (p.exitValue() != 0) {
                throw new AssertionError("prometheus_client cannot parse the scrape:\n" + out + "\n--- text ---\n" + text);
            }
            return JSON.readTree(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            if (in != null) {
                in.toFile().delete();
            }
        }
    }

    /** Samples of every family whose name starts with {@code prefix}: "name{k=v, ...}" (labels sorted) → value. */
    public static Map<String, Double> samples(JsonNode families, String prefix) {
        Map<String, Double> out = new TreeMap<>();
        families.fields().forEachRemaining(f -> {
            if (!f.getKey().startsWith(prefix)) return;
            for (JsonNode s : f.getValue().get("samples")) {
                Map<String, String> labels = new TreeMap<>();
                s.get("labels").fields().forEachRemaining(l -> labels.put(l.getKey(), l.getValue().asText()));
                out.put(s.get("name").asText() + labels, s.get("value").asDouble());
            }
        });
        return out;
    }
}
