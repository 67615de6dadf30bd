package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** values.schema.json refuses wrong values at install time, with a message that names the value. */
class SchemaTest {
    static final String SCHEMA_FAILURE = "values don't meet the specifications of the schema(s)";

    static Stream<Arguments> badValues() {
        return Stream.of(
                Arguments.of("--set", "watchNamespaces=5", "watchNamespaces: Invalid type. Expected: array, given: integer"),
                Arguments.of("--set", "watchNamespaces={Team_A}", "watchNamespaces.0: Does not match pattern"),
                Arguments.of("--set", "watchNamespaces={a,a}", "watchNamespaces: array items[0,1] must be unique"),
                Arguments.of("--set", "unknownKey=1", "Additional property unknownKey is not allowed"),
                Arguments.of("--set", "monitoring.serviceMonitor.enable=true", "Additional property enable is not allowed"),
                Arguments.of("--set", "pricing.gpu.nvidia-h100-80gb.onDemnd=4", "Additional property onDemnd is not allowed"),
                Arguments.of("--set", "pricing.gpu.nvidia-h100-80gb.spot=-1",
                        "pricing.gpu.nvidia-h100-80gb.spot: Must be greater than or equal to 0"),
                Arguments.of("--set-string", "pricing.cpuCoreHour.onDemand=cheap",
                        "pricing.cpuCoreHour.onDemand: Does not match pattern"),
                Arguments.of("--set", "image.pullPolicy=Sometimes", "image.pullPolicy: image.pullPolicy must be one of"),
                Arguments.of("--set", "trainer.image.flavor=rocm", "trainer.image.flavor must be one of the following: \"cuda\", \"cpu\""),
                Arguments.of("--set", "monitoring.podMonitor.enabled=maybe", "monitoring.podMonitor.enabled must be one of"),
                Arguments.of("--set", "replicaCount=-1", "replicaCount: Must be greater than or equal to 0"),
                Arguments.of("--set-string", "rbac.create=yes", "rbac.create: Invalid type. Expected: boolean, given: string"),
                Arguments.of("--set", "service.port=70000", "service.port: Must be less than or equal to 65535"),
                Arguments.of("--set", "trainer.checkpointStorage=ten", "trainer.checkpointStorage: Does not match pattern"));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("badValues")
    void refusesABadValueWithAClearMessage(String flag, String value, String message) {
        Helm.Result r = Helm.template(flag, value);
        assertThat(r.exitCode()).as("helm template %s %s should fail%n%s", flag, value, r.stdout()).isNotZero();
        assertThat(r.stderr()).contains(SCHEMA_FAILURE).contains(message);
    }

    @Test
    void lintAlsoRefusesABadValue() {
        Helm.Result r = Helm.run("lint", Helm.chart().toString(), "--set", "watchNamespaces=5");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.all()).contains("watchNamespaces: Invalid type. Expected: array, given: integer");
    }

    @Test
    void acceptsAFullValuesFile(@TempDir Path dir) throws IOException {
        Path values = dir.resolve("values.yaml");
        Files.writeString(values, """
                image: {repository: registry.example.com/goodput/operator, tag: "0.1.1", pullPolicy: Always}
                imagePullSecrets: [{name: regcred}]
                replicaCount: 2
                logLevel: DEBUG
                resources: {requests: {cpu: 200m, memory: 300Mi}, limits: {cpu: "1", memory: 600Mi}}
                securityContext: {runAsUser: 1001, runAsGroup: 1001}
                podAnnotations: {team: ml-platform}
                podLabels: {cost-center: "42"}
                nodeSelector: {kubernetes.io/os: linux}
                tolerations: [{key: dedicated, operator: Equal, value: ops, effect: NoSchedule}]
                priorityClassName: system-cluster-critical
                extraEnv: [{name: GOODPUT_FAILURE_BACKOFF, value: 30s}]
                trainer: {image: {repository: registry.example.com/goodput/trainer, tag: "0.1.1", flavor: cpu}, checkpointStorage: 50Gi}
                watchNamespaces: [ml-team-a, ml-team-b]
                rbac: {create: true, readCrd: false}
                serviceAccount: {create: true, name: goodput-operator, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::1:role/x"}}
                service: {port: 9090}
                monitoring:
                  serviceMonitor: {enabled: true, interval: 1m, scrapeTimeout: 20s, labels: {release: prom}}
                  podMonitor: {enabled: auto, interval: 30s, labels: {release: prom}}
                dashboards: {enabled: true, label: grafana_dashboard, labelValue: "1", annotations: {grafana_folder: Goodput}, namespace: monitoring}
                pricing:
                  gpu: {nvidia-h100-80gb: {onDemand: 5, spot: 2}, amd-mi300x: {onDemand: 4.5}}
                  cpuCoreHour: {onDemand: 0.03, spot: 0.01}
                  memoryGiBHour: {onDemand: 0.004}
                """);
        Manifests m = Helm.render("-f", values.toString());
        assertThat(m.one("Deployment").at("/spec/replicas").asInt()).isEqualTo(2);
        assertThat(m.ofKind("ServiceMonitor")).hasSize(1);
        assertThat(m.ofKind("ConfigMap").stream().filter(c -> c.at("/metadata/name").asText().contains("-dashboard-")))
                .hasSize(3).allSatisfy(c -> {
                    assertThat(c.at("/metadata/namespace").asText()).isEqualTo("monitoring");
                    assertThat(c.at("/metadata/annotations/grafana_folder").asText()).isEqualTo("Goodput");
                });
    }
}
