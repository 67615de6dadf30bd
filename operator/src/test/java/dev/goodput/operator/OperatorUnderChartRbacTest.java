package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.JobPhase;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.harness.HelmChart;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TrainerJar;
import dev.goodput.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.rbac.ClusterRole;
import io.fabric8.kubernetes.api.model.rbac.PolicyRule;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9: the chart's RBAC is sufficient. The chart is rendered with helm (watching one namespace, as
 * {@code watchNamespaces} does) and applied to the real apiserver; a token for the chart's ServiceAccount comes from
 * the TokenRequest API; the operator runs with a client authenticated by that token alone (no client certificate, no
 * admin), elects itself leader through a Lease in the release namespace, reads its prices from the chart's pricing
 * ConfigMap, and runs jobs end to end with the stand-in kubelet: one to Succeeded and then deleted by its
 * ttlSecondsAfterFinished (delete on trainingjobs), one deleted while it runs (the operator stops its pod gracefully,
 * then releases it), and one with two workers (its Service and NetworkPolicy), deleted while its pods run. The
 * apiserver's audit log then shows every request the ServiceAccount made: none was refused but
 * the Secrets read this test tries on purpose; and every verb the chart grants was used, or is one of
 * {@link #NOT_SEEN_HERE} with the reason it is needed.
 *
 * <p>That the ServiceAccount can do nothing else ({@code kubectl auth can-i --as}) is ChartOnApiServerTest's, in the
 * helm module.
 */
@ExtendWith(RealApiServer.class)
class OperatorUnderChartRbacTest {
    static final ObjectMapper JSON = new ObjectMapper();
    /** Plays a rank of a multi-worker job: runs until SIGTERM, then exits 75 as the trainer does. */
    static final String RANK_IMAGE = "goodput.test/rank:1";

    @Test
    void theChartsServiceAccountTokenAloneRunsJobsEndToEnd(TestApiServer api, KubernetesClient admin, @TempDir Path work)
            throws Exception {
        String release = api.createNamespace(admin, "chart-system");
        String ns = api.createNamespace(admin, "chart-jobs");
        String manifests = HelmChart.template("goodput", release, "--set", "watchNamespaces={" + ns + "}");
        TestApiServer.Result applied = api.kubectlWithInput(manifests, "apply", "--server-side",
                "--field-manager=helm-test", "-f", "-");
        assertThat(applied.exitCode()).as(applied.output()).isZero();
        String sa = "system:serviceaccount:" + release + ":goodput";

        // A token for the chart's ServiceAccount, and a client that has only that.
        String token = admin.serviceAccounts().inNamespace(release).withName("goodput")
                .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
                .getStatus().getToken();
        Config adminConfig = admin.getConfiguration();
        Config config = new ConfigBuilder(Config.empty()).withMasterUrl(adminConfig.getMasterUrl())
                .withCaCertFile(adminConfig.getCaCertFile()).withCaCertData(adminConfig.getCaCertData())
                .withOauthToken(token).withNamespace(ns)
                .withRequestRetryBackoffLimit(3).build();
        assertThat(config.getClientCertData()).isNull();
        assertThat(config.getClientKeyData()).isNull();
        assertThat(config.getClientCertFile()).isNull();
        assertThat(config.getUsername()).isNull();

        try (KubernetesClient client = new KubernetesClientBuilder().withConfig(config).build();
                StandInKubelet kubelet = StandInKubelet.builder(admin).namespace(ns).nodeName("chart-node")
                        .workDir(work).image(OperatorSettings.DEFAULT_IMAGE, TrainerJar.entrypoint())
                        .image(RANK_IMAGE, List.of("sh", "-c", "trap 'exit 75' TERM; while :; do sleep 0.1; done", "rank"))
                        .start()) {
            // The token is the chart's ServiceAccount's, and it is no admin.
            assertThatThrownBy(() -> client.secrets().inNamespace(ns).list())
                    .isInstanceOfSatisfying(KubernetesClientException.class, e -> assertThat(e.getCode()).as("%s", e).isEqualTo(403))
                    .hasMessageContaining(sa);
            // What the app does at start: check that its CRD is installed (QOSDK's crd.validate).
            assertThat(client.apiextensions().v1().customResourceDefinitions().withName(TrainingJob.CRD_NAME).get())
                    .isNotNull();
            // Its prices: the chart's pricing ConfigMap, which the pod mounts as a file (no API access needed).
            ConfigMap pricing = admin.configMaps().inNamespace(release).withName("goodput-pricing").get();
            PriceTable prices = PriceTable.parse(pricing.getData().get("pricing.yaml"), "goodput-pricing");

            try (InProcessOperator operator = new InProcessOperator(client, ns,
                    OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1)), prices,
                    new OperatorMetrics(new SimpleMeterRegistry()), release)) {
                create(admin, ns, """
                        apiVersion: goodput.dev/v1alpha1
                        kind: TrainingJob
                        metadata:
                          name: done
                        spec:
                          model: {architecture: mlp, width: 32}
                          data: {trainLimit: 1024, testLimit: 256}
                          training: {epochs: 1, globalBatchSize: 64, batchSize: 64}
                          resources: {cpu: "1", memory: 1Gi}
                          ttlSecondsAfterFinished: 2
                        """);
                create(admin, ns, """
                        apiVersion: goodput.dev/v1alpha1
                        kind: TrainingJob
                        metadata:
                          name: deleted
                        spec:
                          model: {architecture: mlp, width: 32}
                          data: {trainLimit: 2048, testLimit: 256}
                          training: {maxDuration: 60s, globalBatchSize: 64, batchSize: 64}
                          checkpoint: {interval: 1s}
                        """);
                create(admin, ns, """
                        apiVersion: goodput.dev/v1alpha1
                        kind: TrainingJob
                        metadata:
                          name: no-claim
                        spec:
                          model: {architecture: mlp}
                          training: {epochs: 1}
                          checkpoint: {claimName: missing}
                        """);
                // The operator looks the named claim up and says it is missing.
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(job(admin, ns, "no-claim").getStatus()
                        .conditions).anySatisfy(c -> {
                            assertThat(c.type).isEqualTo("Valid");
                            assertThat(c.status).isEqualTo("False");
                            assertThat(c.message).contains("missing");
                        }));
                // Succeeded (with a price from the chart's table), then deleted by the operator after its TTL.
                await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
                    TrainingJob j = job(admin, ns, "done");
                    assertThat(j).as("job 'done' was deleted before it was seen Succeeded").isNotNull();
                    assertThat(j.getStatus().phase).isEqualTo(JobPhase.Succeeded);
                    assertThat(j.getStatus().cost).isPositive();
                });
                assertThat(client.pods().inNamespace(ns).withName("done-1").get().getStatus().getPhase())
                        .isEqualTo("Succeeded");
                await().atMost(Duration.ofSeconds(30)).until(() -> job(admin, ns, "done") == null);
                assertThat(admin.v1().events().inNamespace(ns).list().getItems())
                        .anySatisfy(e -> assertThat(e.getReason()).isEqualTo("Completed"));

                // Two workers: their Service and NetworkPolicy by server-side apply, then deleted while they run.
                admin.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder()
                        .withNewMetadata().withName("shared").endMetadata().withNewSpec().withAccessModes("ReadWriteMany")
                        .withNewResources().addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build())
                        .create();
                create(admin, ns, """
                        apiVersion: goodput.dev/v1alpha1
                        kind: TrainingJob
                        metadata:
                          name: pair
                        spec:
                          model: {architecture: mlp}
                          training: {epochs: 1, globalBatchSize: 64}
                          checkpoint: {claimName: shared}
                          resources: {workers: 2}
                          image: %s
                        """.formatted(RANK_IMAGE));
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                    assertThat(admin.pods().inNamespace(ns).withName("pair-1-1").get()).isNotNull();
                    assertThat(admin.services().inNamespace(ns).withName("pair-workers").get()).isNotNull();
                    assertThat(admin.network().v1().networkPolicies().inNamespace(ns).withName("pair-workers").get())
                            .isNotNull();
                });
                admin.resources(TrainingJob.class).inNamespace(ns).withName("pair").delete();
                await().atMost(Duration.ofSeconds(60)).until(() -> job(admin, ns, "pair") == null);

                // Deleted while it runs: the operator stops the pod (it checkpoints), then lets the job go.
                await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
                    TrainingJob j = job(admin, ns, "deleted");
                    return j.getStatus() != null && j.getStatus().phase == JobPhase.Running && j.getStatus().lastCheckpoint != null;
                });
                admin.resources(TrainingJob.class).inNamespace(ns).withName("deleted").delete();
                await().atMost(Duration.ofSeconds(60)).until(() -> job(admin, ns, "deleted") == null);
                await().atMost(Duration.ofSeconds(10)).until(() -> admin.pods().inNamespace(ns).withName("deleted-1").get() == null);
                assertThat(Files.readString(kubelet.podDir(ns, "deleted-1").orElseThrow().resolve("trainer.log")))
                        .contains("SIGTERM");
            }
        }

        // The audit log: what the ServiceAccount did, and that RBAC refused nothing but the Secrets tried above.
        List<JsonNode> requests = audit(api.auditLog(), sa);
        Set<String> refused = new TreeSet<>();
        Set<String> used = new TreeSet<>();
        for (JsonNode r : requests) {
            String what = r.path("verb").asText() + " " + resource(r.path("objectRef"));
            if (r.path("responseStatus").path("code").asInt() == 403) {
                refused.add(what);
            } else {
                used.add(what);
            }
        }
        System.out.printf("[chart-rbac] %d requests by %s; verbs used: %s%n", requests.size(), sa, used);
        assertThat(refused).as("requests RBAC refused").containsExactly("list secrets");
        // And least privilege, by use: every verb the chart grants was used here, or is explained below.
        Set<String> granted = grants(admin, manifests);
        assertThat(granted).as("the chart's grants").isNotEmpty();
        Set<String> unused = new TreeSet<>(granted);
        unused.removeAll(used);
        unused.removeAll(NOT_SEEN_HERE.keySet());
        assertThat(unused).as("granted by the chart, never used by the operator (used: %s)", used).isEmpty();
        assertThat(granted).containsAll(NOT_SEEN_HERE.keySet());
    }

    /**
     * Grants the operator needs that this test cannot see in the audit log, and why. Server-side apply of a new
     * object is authorized as create inside its patch request, so the audit log shows only the patch.
     */
    static final Map<String, String> NOT_SEEN_HERE = Map.of(
            "create pods", "server-side apply of a new pod",
            "create configmaps", "server-side apply of a new ConfigMap",
            "create persistentvolumeclaims", "server-side apply of a new claim",
            "create services", "server-side apply of a multi-worker job's new Service",
            "create networkpolicies.networking.k8s.io", "server-side apply of a multi-worker job's new NetworkPolicy",
            "update trainingjobs.goodput.dev/finalizers", "blockOwnerDeletion on owner references, checked by the "
                    + "OwnerReferencesPermissionEnforcement admission plugin (OpenShift; not enabled here)",
            "get trainingjobs.goodput.dev", "JOSDK re-reads a job when a patch of its finalizer conflicts",
            "update leases.coordination.k8s.io", "JOSDK checks get, create and update on leases before it elects "
                    + "(fabric8 renews with patch)");

    /** What the rendered chart grants its ServiceAccount, as "verb resource[.group][/subresource]". */
    static Set<String> grants(KubernetesClient client, String manifests) {
        Set<String> out = new TreeSet<>();
        for (HasMetadata o : client.load(new ByteArrayInputStream(manifests.getBytes(StandardCharsets.UTF_8))).items()) {
            List<PolicyRule> rules = o instanceof Role r ? r.getRules() : o instanceof ClusterRole c ? c.getRules() : List.of();
            for (PolicyRule rule : rules) {
                for (String group : rule.getApiGroups()) {
                    for (String resource : rule.getResources()) {
                        String[] parts = resource.split("/", 2);
                        String name = parts[0] + (group.isEmpty() ? "" : "." + group) + (parts.length > 1 ? "/" + parts[1] : "");
                        rule.getVerbs().forEach(v -> out.add(v + " " + name));
                    }
                }
            }
        }
        return out;
    }

    static void create(KubernetesClient client, String ns, String yaml) {
        client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal(yaml, TrainingJob.class))
                .create();
    }

    static TrainingJob job(KubernetesClient client, String ns, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    /** The completed requests of {@code user} in the audit log (JSON lines). */
    static List<JsonNode> audit(Path log, String user) throws IOException {
        return Files.readAllLines(log).stream().map(line -> {
            try {
                return JSON.readTree(line);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + line, e);
            }
        }).filter(e -> user.equals(e.path("user").path("username").asText()))
                .filter(e -> "ResponseComplete".equals(e.path("stage").asText())).toList();
    }

    /** {@code resource[.group][/subresource]}, as kubectl names it. */
    static String resource(JsonNode ref) {
        String group = ref.path("apiGroup").asText("");
        String sub = ref.path("subresource").asText("");
        return ref.path("resource").asText() + (group.isEmpty() ? "" : "." + group) + (sub.isEmpty() ? "" : "/" + sub);
    }
}
