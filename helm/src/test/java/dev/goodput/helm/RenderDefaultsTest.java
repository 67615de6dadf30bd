package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code helm template} with the default values: what renders, and how the operator's Deployment is hardened. */
class RenderDefaultsTest {
    static Manifests m;

    @BeforeAll
    static void render() {
        m = Helm.render();
    }

    @Test
    void rendersTheOperatorAndNothingThatNeedsMissingApis() {
        assertThat(m.kinds()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "ServiceAccount", 1L, "Deployment", 1L, "Service", 1L,
                "ConfigMap", 4L, // the price table and three dashboards
                "ClusterRole", 2L, "ClusterRoleBinding", 2L, // the operator's permissions, read of its CRD
                "Role", 1L, "RoleBinding", 1L)); // leader election and the price table, in the release namespace
        assertThat(m.ofKind("ServiceMonitor")).isEmpty();
        assertThat(m.ofKind("PodMonitor")).isEmpty();
    }

    @Test
    void namespacedObjectsLiveInTheReleaseNamespace() {
        for (JsonNode o : m.objects()) {
            String kind = o.path("kind").asText();
            if (!kind.startsWith("Cluster")) {
                assertThat(o.at("/metadata/namespace").asText()).as("%s %s", kind, o.at("/metadata/name"))
                        .isEqualTo(Helm.NAMESPACE);
            }
            assertThat(o.at("/metadata/labels/app.kubernetes.io~1part-of").asText()).isEqualTo("goodput");
        }
    }

    @Test
    void deploymentIsHardened() {
        JsonNode pod = m.one("Deployment").at("/spec/template/spec");
        assertThat(pod.at("/serviceAccountName").asText()).isEqualTo("goodput");
        assertThat(pod.at("/securityContext/runAsNonRoot").asBoolean()).isTrue();
        assertThat(pod.at("/securityContext/runAsUser").asInt()).isPositive();
        assertThat(pod.at("/securityContext/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");
        assertThat(pod.at("/containers")).hasSize(1);
        JsonNode c = pod.at("/containers/0");
        JsonNode sc = c.at("/securityContext");
        assertThat(sc.at("/readOnlyRootFilesystem").asBoolean()).isTrue();
        assertThat(sc.at("/allowPrivilegeEscalation").isBoolean()).isTrue();
        assertThat(sc.at("/allowPrivilegeEscalation").asBoolean()).isFalse();
        assertThat(sc.at("/privileged").asBoolean()).isFalse();
        assertThat(sc.at("/runAsNonRoot").asBoolean()).isTrue();
        assertThat(Manifests.texts(sc.at("/capabilities/drop"))).containsExactly("ALL");
        assertThat(sc.at("/capabilities/add").isMissingNode()).isTrue();
        assertThat(sc.at("/seccompProfile/type").asText()).isEqualTo("RuntimeDefault");

        // A writable /tmp on an emptyDir, the only writable path.
        String tmpVolume = Manifests.list(c.at("/volumeMounts")).stream()
                .filter(v -> v.at("/mountPath").asText().equals("/tmp")).map(v -> v.at("/name").asText())
                .findFirst().orElseThrow(() -> new AssertionError("no /tmp mount"));
        assertThat(Manifests.list(pod.at("/volumes")).stream().filter(v -> v.at("/name").asText().equals(tmpVolume))
                .findFirst().orElseThrow().has("emptyDir")).isTrue();

        assertThat(c.at("/image").asText()).isEqualTo("goodput/operator:0.1.0");
        assertThat(c.at("/resources/requests/cpu").asText()).isNotBlank();
        assertThat(c.at("/resources/limits/memory").asText()).isNotBlank();
        assertThat(c.at("/ports/0/containerPort").asInt()).isEqualTo(8080);
        assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
        assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/q/health/ready");
        assertThat(c.at("/startupProbe/httpGet/path").asText()).isEqualTo("/q/health/live");
    }

    @Test
    void operatorEnvironment() {
        Map<String, String> env = env(m.one("Deployment"));
        assertThat(env).containsEntry("QUARKUS_OPERATOR_SDK_NAMESPACES", "JOSDK_ALL_NAMESPACES")
                .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS_TRAININGJOB_NAMESPACES", "JOSDK_ALL_NAMESPACES")
                .containsEntry("GOODPUT_TRAINER_IMAGE", "goodput/trainer:0.1.0-cuda")
                .containsEntry("GOODPUT_CHECKPOINT_STORAGE", "10Gi")
                .containsEntry("GOODPUT_PRICING_FILE", "/etc/goodput/pricing/pricing.yaml")
                .doesNotContainKey("GOODPUT_PRICING_CONFIGMAP")
                .containsEntry("GOODPUT_LEADER_ELECTION_LEASE_NAME", "goodput");

        Map<String, String> cpu = env(Helm.render("--set", "trainer.image.flavor=cpu", "--set-string",
                "trainer.image.tag=1.2.3", "--set", "image.tag=9.9.9").one("Deployment"));
        assertThat(cpu).containsEntry("GOODPUT_TRAINER_IMAGE", "goodput/trainer:1.2.3-cpu");
    }

    @Test
    void schedulingReachesTheOperatorAsJson() throws IOException {
        Map<String, String> env = env(m.one("Deployment"));
        assertThat(env).containsEntry("GOODPUT_SCHEDULING_GPU_TYPE_NODE_LABEL", "goodput.dev/gpu-type")
                .containsEntry("GOODPUT_SCHEDULING_SPOT_TOLERATIONS", "[]");
        assertThat(Helm.YAML.readTree(env.get("GOODPUT_SCHEDULING_SPOT_NODE_SELECTOR")).at("/goodput.dev~1capacity-type").asText())
                .isEqualTo("spot");

        Path values = Files.createTempFile("gke", ".yaml");
        Files.writeString(values, """
                scheduling:
                  gpuTypeNodeLabel: cloud.google.com/gke-accelerator
                  spot:
                    nodeSelector: {cloud.google.com/gke-spot: "true", goodput.dev/capacity-type: null}
                    tolerations: [{key: cloud.google.com/gke-spot, operator: Equal, value: "true", effect: NoSchedule}]
                """);
        Map<String, String> gke = env(Helm.render("-f", values.toString()).one("Deployment"));
        assertThat(gke).containsEntry("GOODPUT_SCHEDULING_GPU_TYPE_NODE_LABEL", "cloud.google.com/gke-accelerator")
                .containsEntry("GOODPUT_SCHEDULING_SPOT_NODE_SELECTOR", "{\"cloud.google.com/gke-spot\":\"true\"}");
        assertThat(Helm.YAML.readTree(gke.get("GOODPUT_SCHEDULING_SPOT_TOLERATIONS")).at("/0/effect").asText()).isEqualTo("NoSchedule");
        Files.delete(values);
    }

    @Test
    void pricingConfigMapIsMountedAndParses() throws IOException {
        JsonNode cm = m.named("ConfigMap", "goodput-pricing");
        JsonNode pricing = Helm.YAML.readTree(cm.at("/data/pricing.yaml").asText());
        assertThat(pricing.has("currency")).as("prices are dollars; there is no currency to choose").isFalse();
        assertThat(pricing.at("/gpu")).isNotEmpty();
        pricing.at("/gpu").fields().forEachRemaining(e -> {
            assertThat(e.getValue().at("/onDemand").isNumber()).as(e.getKey()).isTrue();
            assertThat(e.getValue().at("/spot").asDouble()).as(e.getKey())
                    .isLessThan(e.getValue().at("/onDemand").asDouble());
        });
        assertThat(pricing.at("/cpuCoreHour/onDemand").isNumber()).isTrue();
        assertThat(pricing.at("/memoryGiBHour/onDemand").isNumber()).isTrue();

        JsonNode pod = m.one("Deployment").at("/spec/template/spec");
        assertThat(Manifests.list(pod.at("/volumes")))
                .anySatisfy(v -> assertThat(v.at("/configMap/name").asText()).isEqualTo("goodput-pricing"));
        assertThat(m.one("Deployment").at("/spec/template/metadata/annotations/checksum~1pricing").asText())
                .hasSize(64);

        Manifests custom = Helm.render("--set", "pricing.gpu.acme-x1.onDemand=9.5", "--set",
                "pricing.gpu.acme-x1.spot=3");
        JsonNode p2 = Helm.YAML.readTree(custom.named("ConfigMap", "goodput-pricing").at("/data/pricing.yaml").asText());
        assertThat(p2.at("/gpu/acme-x1/onDemand").asDouble()).isEqualTo(9.5);
        assertThat(custom.one("Deployment").at("/spec/template/metadata/annotations/checksum~1pricing").asText())
                .isNotEqualTo(m.one("Deployment").at("/spec/template/metadata/annotations/checksum~1pricing").asText());
    }

    @Test
    void serviceSelectsTheOperatorPodOnItsHttpPort() {
        JsonNode svc = m.one("Service");
        JsonNode podLabels = m.one("Deployment").at("/spec/template/metadata/labels");
        svc.at("/spec/selector").fields().forEachRemaining(e ->
                assertThat(podLabels.path(e.getKey()).asText()).as(e.getKey()).isEqualTo(e.getValue().asText()));
        assertThat(svc.at("/spec/ports/0/targetPort").asText()).isEqualTo("http");
        assertThat(svc.at("/spec/ports/0/name").asText()).isEqualTo("http");
    }

    @Test
    void crdIsInstalledFromTheChartCrdsFolder() throws IOException {
        Manifests withCrds = Helm.render("--include-crds");
        JsonNode crd = withCrds.one("CustomResourceDefinition");
        assertThat(crd.at("/metadata/name").asText()).isEqualTo("trainingjobs.goodput.dev");
        try (var files = Files.list(Helm.repo().resolve("crds"))) {
            Path source = files.filter(f -> f.toString().endsWith(".yml") || f.toString().endsWith(".yaml"))
                    .findFirst().orElseThrow();
            assertThat(crd).isEqualTo(Helm.YAML.readTree(source.toFile()));
        }
    }

    static Map<String, String> env(JsonNode deployment) {
        Map<String, String> env = new HashMap<>();
        List<JsonNode> vars = Manifests.list(deployment.at("/spec/template/spec/containers/0/env"));
        vars.forEach(v -> env.put(v.at("/name").asText(), v.at("/value").asText()));
        return env;
    }
}
