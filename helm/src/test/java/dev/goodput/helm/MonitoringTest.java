package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

/** ServiceMonitor (operator) and PodMonitor (trainers): when they render and what they scrape. */
class MonitoringTest {
    static final String PROMETHEUS_OPERATOR = "monitoring.coreos.com/v1";

    @Test
    void autoRendersThemOnlyWhenTheClusterServesMonitoringCoreosComV1() {
        assertThat(Helm.render().ofKind("ServiceMonitor")).isEmpty();
        assertThat(Helm.render().ofKind("PodMonitor")).isEmpty();
        Manifests withApi = Helm.render("--api-versions", PROMETHEUS_OPERATOR);
        assertThat(withApi.ofKind("ServiceMonitor")).hasSize(1);
        assertThat(withApi.ofKind("PodMonitor")).hasSize(1);
    }

    @Test
    void explicitValuesWinOverDetection() {
        Manifests forced = Helm.render("--set", "monitoring.serviceMonitor.enabled=true",
                "--set", "monitoring.podMonitor.enabled=true");
        assertThat(forced.ofKind("ServiceMonitor")).hasSize(1);
        assertThat(forced.ofKind("PodMonitor")).hasSize(1);
        Manifests off = Helm.render("--api-versions", PROMETHEUS_OPERATOR, "--set",
                "monitoring.serviceMonitor.enabled=false", "--set", "monitoring.podMonitor.enabled=false");
        assertThat(off.ofKind("ServiceMonitor")).isEmpty();
        assertThat(off.ofKind("PodMonitor")).isEmpty();
    }

    @Test
    void serviceMonitorScrapesTheOperatorsQuarkusMetrics() {
        Manifests m = Helm.render("--api-versions", PROMETHEUS_OPERATOR, "--set",
                "monitoring.serviceMonitor.labels.release=kube-prometheus-stack");
        JsonNode sm = m.one("ServiceMonitor");
        JsonNode svc = m.one("Service");
        assertThat(sm.at("/metadata/labels/release").asText()).isEqualTo("kube-prometheus-stack");
        sm.at("/spec/selector/matchLabels").fields().forEachRemaining(e ->
                assertThat(svc.at("/metadata/labels").path(e.getKey()).asText()).as(e.getKey())
                        .isEqualTo(e.getValue().asText()));
        assertThat(Manifests.texts(sm.at("/spec/namespaceSelector/matchNames"))).containsExactly(Helm.NAMESPACE);
        JsonNode ep = sm.at("/spec/endpoints/0");
        assertThat(ep.at("/port").asText()).isEqualTo(svc.at("/spec/ports/0/name").asText());
        assertThat(ep.at("/path").asText()).isEqualTo("/q/metrics");
        // The operator's per-job series carry their own job and namespace labels.
        assertThat(ep.at("/honorLabels").asBoolean()).isTrue();
    }

    @Test
    void podMonitorScrapesTrainerPodsInTheWatchedNamespaces() {
        JsonNode pm = Helm.render("--api-versions", PROMETHEUS_OPERATOR).one("PodMonitor");
        // The labels the operator puts on trainer pods (operator Labels: app.kubernetes.io/name=goodput-trainer,
        // app.kubernetes.io/managed-by=goodput-operator, goodput.dev/job=<job>) and the port it names "metrics" (9400).
        assertThat(pm.at("/spec/selector/matchLabels/app.kubernetes.io~1name").asText()).isEqualTo("goodput-trainer");
        assertThat(pm.at("/spec/selector/matchLabels/app.kubernetes.io~1managed-by").asText())
                .isEqualTo("goodput-operator");
        assertThat(pm.at("/spec/selector/matchExpressions/0/key").asText()).isEqualTo("goodput.dev/job");
        assertThat(pm.at("/spec/namespaceSelector/any").asBoolean()).isTrue();
        JsonNode ep = pm.at("/spec/podMetricsEndpoints/0");
        assertThat(ep.at("/port").asText()).isEqualTo("metrics");
        assertThat(ep.at("/path").asText()).isEqualTo("/metrics");
        // The labels the dashboards join on (DashboardsOnPrometheusTest labels its trainer targets the same way):
        // job and attempt from the pod's labels, node for OpenCost's per-node prices.
        java.util.Map<String, String> relabel = new java.util.TreeMap<>();
        for (JsonNode r : Manifests.list(ep.at("/relabelings"))) {
            relabel.put(String.join(",", Manifests.texts(r.at("/sourceLabels"))), r.at("/targetLabel").asText());
        }
        assertThat(relabel).containsExactlyInAnyOrderEntriesOf(java.util.Map.of(
                "__meta_kubernetes_pod_label_goodput_dev_job", "job",
                "__meta_kubernetes_pod_label_goodput_dev_attempt", "attempt",
                "__meta_kubernetes_pod_node_name", "node"));

        JsonNode scoped = Helm.render("--api-versions", PROMETHEUS_OPERATOR, "--set", "watchNamespaces={team-a,team-b}")
                .one("PodMonitor");
        assertThat(scoped.at("/spec/namespaceSelector/any").isMissingNode()).isTrue();
        assertThat(Manifests.texts(scoped.at("/spec/namespaceSelector/matchNames"))).containsExactly("team-a", "team-b");
    }
}
