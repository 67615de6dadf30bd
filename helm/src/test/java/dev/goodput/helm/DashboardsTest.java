package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Grafana dashboards in goodput/dashboards: valid JSON, a title and a unit on every panel, and PromQL that
 * queries only metrics the code exports ({@link AllowedMetrics}); and the ConfigMaps that ship them.
 */
class DashboardsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static List<Path> dashboards() throws IOException {
        try (Stream<Path> files = Files.list(Helm.chart().resolve("dashboards"))) {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    @Test
    void theThreeDashboardsExist() throws IOException {
        assertThat(dashboards()).extracting(p -> p.getFileName().toString())
                .containsExactly("goodput-efficiency.json", "goodput-fleet-cost.json", "goodput-job.json");
        Set<String> uids = new HashSet<>();
        for (Path p : dashboards()) {
            JsonNode d = JSON.readTree(p.toFile());
            assertThat(d.path("title").asText()).as(p.toString()).startsWith("Goodput / ");
            assertThat(uids.add(d.path("uid").asText())).as("unique uid in %s", p).isTrue();
            assertThat(d.path("uid").asText().length()).isBetween(1, 40);
            assertThat(d.path("panels")).as(p.toString()).isNotEmpty();
            assertThat(Manifests.list(d.at("/templating/list")))
                    .anySatisfy(v -> assertThat(v.path("type").asText()).isEqualTo("datasource"));
        }
    }

    @Test
    void everyPanelHasATitleAUnitAndAQuery() throws IOException {
        List<String> problems = new ArrayList<>();
        for (Path p : dashboards()) {
            for (JsonNode panel : panels(JSON.readTree(p.toFile()))) {
                String where = p.getFileName() + " panel " + panel.path("id").asText() + " '" + panel.path("title").asText() + "'";
                if (panel.path("title").asText().isBlank()) {
                    problems.add(where + ": no title");
                }
                if (panel.path("type").asText().equals("row")) {
                    continue;
                }
                if (panel.at("/fieldConfig/defaults/unit").asText().isBlank()) {
                    problems.add(where + ": no fieldConfig.defaults.unit");
                }
                if (panel.path("targets").isEmpty()) {
                    problems.add(where + ": no query");
                }
                for (JsonNode t : Manifests.list(panel.path("targets"))) {
                    if (t.path("expr").asText().isBlank()) {
                        problems.add(where + " target " + t.path("refId").asText() + ": empty expr");
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
    }

    @Test
    void queriesUseOnlyExportedMetricNames() throws IOException {
        List<String> problems = new ArrayList<>();
        Set<String> used = new HashSet<>();
        for (Path p : dashboards()) {
            JsonNode d = JSON.readTree(p.toFile());
            for (JsonNode panel : panels(d)) {
                for (JsonNode t : Manifests.list(panel.path("targets"))) {
                    String expr = t.path("expr").asText();
                    Set<String> names = PromQl.metricNames(expr);
                    if (names.isEmpty()) {
                        problems.add(p.getFileName() + " '" + panel.path("title").asText() + "': no metric in " + expr);
                    }
                    for (String name : names) {
                        used.add(name);
                        if (!AllowedMetrics.allows(name)) {
                            problems.add(p.getFileName() + " '" + panel.path("title").asText() + "': " + name
                                    + " is not exported (in " + expr + ")");
                        }
                    }
                }
            }
            for (JsonNode v : Manifests.list(d.at("/templating/list"))) {
                String q = v.path("query").isObject() ? v.at("/query/query").asText() : v.path("query").asText();
                if (v.path("type").asText().equals("query")) {
                    Set<String> names = PromQl.templateQueryMetrics(q);
                    assertThat(names).as("variable %s of %s", v.path("name").asText(), p.getFileName()).isNotEmpty();
                    names.stream().filter(n -> !AllowedMetrics.allows(n))
                            .forEach(n -> problems.add(p.getFileName() + " variable " + v.path("name").asText() + ": " + n));
                }
            }
        }
        assertThat(problems).isEmpty();
        // The dashboards are about both sides: the operator's accounting and the trainers' throughput.
        assertThat(used).contains("goodput_trainingjob_cost_dollars", "goodput_trainer_samples_total",
                "goodput_trainer_step_seconds_sum", "goodput_trainer_data_wait_ratio",
                "goodput_trainingjob_goodput_seconds", "goodput_trainingjob_badput_seconds",
                "goodput_trainingjob_badput_cost_dollars", "node_gpu_hourly_cost", "node_cpu_hourly_cost");
    }

    @Test
    void chartShipsEachDashboardAsAConfigMapWithTheSidecarLabel() throws IOException {
        Manifests m = Helm.render();
        for (Path p : dashboards()) {
            String file = p.getFileName().toString();
            String name = "goodput-dashboard-" + file.replace(".json", "");
            JsonNode cm = m.named("ConfigMap", name);
            assertThat(cm.at("/metadata/labels/grafana_dashboard").asText()).isEqualTo("1");
            assertThat(JSON.readTree(cm.at("/data").path(file).asText())).isEqualTo(JSON.readTree(p.toFile()));
        }
        Manifests relabelled = Helm.render("--set", "dashboards.label=grafana.example.com/dashboard",
                "--set-string", "dashboards.labelValue=goodput");
        assertThat(relabelled.ofKind("ConfigMap").stream()
                .filter(c -> c.at("/metadata/name").asText().contains("-dashboard-")))
                .hasSize(3)
                .allSatisfy(c -> assertThat(c.at("/metadata/labels").path("grafana.example.com/dashboard").asText())
                        .isEqualTo("goodput"));
        assertThat(Helm.render("--set", "dashboards.enabled=false").ofKind("ConfigMap")).hasSize(1);
    }

    /** Every panel, those inside rows included. */
    static List<JsonNode> panels(JsonNode dashboard) {
        List<JsonNode> out = new ArrayList<>();
        for (JsonNode panel : Manifests.list(dashboard.path("panels"))) {
            out.add(panel);
            out.addAll(Manifests.list(panel.path("panels")));
        }
        return out;
    }
}
