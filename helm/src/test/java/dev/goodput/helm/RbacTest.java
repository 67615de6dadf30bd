package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Least privilege, pinned: the exact permissions the chart grants, and where. Adding a permission means changing
 * {@link #NAMESPACED} (and saying in the commit which operator code needs it). That these are what the operator uses,
 * no more, no less, is shown by the operator module's OperatorUnderChartRbacTest: the operator runs jobs end to end
 * under the rendered chart's ServiceAccount, and the apiserver's audit log shows no refusal and no unused grant.
 */
class RbacTest {
    /** In each watched namespace (or cluster-wide when all are watched): "group/resource" → verbs. */
    static final Map<String, Set<String>> NAMESPACED = Map.of(
            "goodput.dev/trainingjobs", Set.of("get", "list", "watch", "patch", "delete"),
            "goodput.dev/trainingjobs/status", Set.of("patch"),
            "goodput.dev/trainingjobs/finalizers", Set.of("update"),
            "/pods", Set.of("get", "list", "watch", "create", "patch", "delete"),
            "/configmaps", Set.of("create", "patch"),
            "/persistentvolumeclaims", Set.of("get", "create", "patch"),
            "/services", Set.of("create", "patch"),
            "networking.k8s.io/networkpolicies", Set.of("create", "patch"),
            "/events", Set.of("create"));
    /** In the release namespace only. */
    static final Map<String, Set<String>> OPERATOR_NAMESPACE = Map.of(
            "coordination.k8s.io/leases", Set.of("get", "create", "update", "patch"));
    /** Cluster-wide, whatever is watched. */
    static final Map<String, Set<String>> CRD_READ = Map.of(
            "apiextensions.k8s.io/customresourcedefinitions[trainingjobs.goodput.dev]", Set.of("get"));

    static Stream<Arguments> valueSets() {
        return Stream.of(
                Arguments.of("defaults", new String[0]),
                Arguments.of("namespace list", new String[] {"--set", "watchNamespaces={team-a,team-b}"}),
                Arguments.of("monitoring", new String[] {"--api-versions", "monitoring.coreos.com/v1"}),
                Arguments.of("no CRD read", new String[] {"--set", "rbac.readCrd=false"}));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueSets")
    void noWildcardsNoSecretsNoEscalation(String name, String[] flags) {
        Manifests m = Helm.render(flags);
        for (JsonNode role : roles(m)) {
            for (JsonNode rule : Manifests.list(role.at("/rules"))) {
                for (String field : List.of("apiGroups", "resources", "verbs", "resourceNames")) {
                    assertThat(Manifests.texts(rule.path(field))).as("%s %s", role.at("/metadata/name"), field)
                            .noneMatch(s -> s.contains("*"));
                }
                assertThat(rule.has("nonResourceURLs")).isFalse();
                assertThat(Manifests.texts(rule.path("resources"))).doesNotContain("secrets")
                        .noneMatch(r -> r.startsWith("secrets/") || r.startsWith("pods/exec")
                                || r.equals("serviceaccounts/token") || r.startsWith("nodes"));
                assertThat(Manifests.texts(rule.path("verbs")))
                        .doesNotContain("escalate", "bind", "impersonate", "deletecollection");
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("valueSets")
    void bindingsPointAtRenderedRolesAndTheChartsServiceAccount(String name, String[] flags) {
        Manifests m = Helm.render(flags);
        for (JsonNode b : bindings(m)) {
            String refKind = b.at("/roleRef/kind").asText();
            // A RoleBinding's Role is in the binding's namespace; a ClusterRole has none.
            assertThat(m.ofKind(refKind)).as("%s of binding %s", refKind, b.at("/metadata/name"))
                    .anySatisfy(role -> {
                        assertThat(role.at("/metadata/name")).isEqualTo(b.at("/roleRef/name"));
                        assertThat(role.at("/metadata/namespace")).isEqualTo(b.at("/metadata/namespace"));
                    });
            assertThat(b.at("/subjects")).hasSize(1);
            assertThat(b.at("/subjects/0/kind").asText()).isEqualTo("ServiceAccount");
            assertThat(b.at("/subjects/0/name").asText()).isEqualTo("goodput");
            assertThat(b.at("/subjects/0/namespace").asText()).isEqualTo(Helm.NAMESPACE);
        }
    }

    @Test
    void allNamespacesMeansOneClusterRoleWithExactlyTheOperatorsPermissions() {
        Manifests m = Helm.render();
        assertThat(grants(m.named("ClusterRole", "goodput"))).isEqualTo(new TreeMap<>(NAMESPACED));
        assertThat(m.named("ClusterRoleBinding", "goodput").at("/roleRef/name").asText()).isEqualTo("goodput");
        assertThat(grants(m.named("ClusterRole", "goodput-crd-reader"))).isEqualTo(new TreeMap<>(CRD_READ));
        assertThat(grants(m.named("Role", "goodput-operator"))).isEqualTo(new TreeMap<>(OPERATOR_NAMESPACE));
    }

    @Test
    void aNamespaceListSwitchesToRolesAndRoleBindingsInEachNamespace() {
        Manifests m = Helm.render("--set", "watchNamespaces={team-a,team-b}");
        assertThat(m.ofKind("Role")).extracting(r -> r.at("/metadata/namespace").asText() + "/" + r.at("/metadata/name").asText())
                .containsExactlyInAnyOrder("team-a/goodput", "team-b/goodput", Helm.NAMESPACE + "/goodput-operator");
        assertThat(m.ofKind("RoleBinding")).extracting(r -> r.at("/metadata/namespace").asText() + "/" + r.at("/metadata/name").asText())
                .containsExactlyInAnyOrder("team-a/goodput", "team-b/goodput", Helm.NAMESPACE + "/goodput-operator");
        for (String ns : List.of("team-a", "team-b")) {
            JsonNode role = m.ofKind("Role").stream().filter(r -> r.at("/metadata/namespace").asText().equals(ns))
                    .findFirst().orElseThrow();
            assertThat(grants(role)).as(ns).isEqualTo(new TreeMap<>(NAMESPACED));
        }
        // Nothing cluster-wide but the read of the one CRD.
        assertThat(m.ofKind("ClusterRole")).hasSize(1);
        assertThat(grants(m.one("ClusterRole"))).isEqualTo(new TreeMap<>(CRD_READ));
        assertThat(m.one("ClusterRoleBinding").at("/roleRef/name").asText()).isEqualTo("goodput-crd-reader");

        assertThat(RenderDefaultsTest.env(m.one("Deployment")))
                .containsEntry("QUARKUS_OPERATOR_SDK_NAMESPACES", "team-a,team-b")
                .containsEntry("QUARKUS_OPERATOR_SDK_CONTROLLERS_TRAININGJOB_NAMESPACES", "team-a,team-b");

        Manifests noCrd = Helm.render("--set", "watchNamespaces={team-a}", "--set", "rbac.readCrd=false");
        assertThat(noCrd.ofKind("ClusterRole")).isEmpty();
        assertThat(noCrd.ofKind("ClusterRoleBinding")).isEmpty();
    }

    @Test
    void rbacCreateFalseRendersNoRbacAndAnExistingServiceAccountCanBeNamed() {
        Manifests m = Helm.render("--set", "rbac.create=false", "--set", "serviceAccount.create=false",
                "--set", "serviceAccount.name=platform-goodput");
        assertThat(roles(m)).isEmpty();
        assertThat(bindings(m)).isEmpty();
        assertThat(m.ofKind("ServiceAccount")).isEmpty();
        assertThat(m.one("Deployment").at("/spec/template/spec/serviceAccountName").asText()).isEqualTo("platform-goodput");
    }

    static List<JsonNode> roles(Manifests m) {
        return Stream.concat(m.ofKind("ClusterRole").stream(), m.ofKind("Role").stream()).toList();
    }

    static List<JsonNode> bindings(Manifests m) {
        return Stream.concat(m.ofKind("ClusterRoleBinding").stream(), m.ofKind("RoleBinding").stream()).toList();
    }

    /** A role's rules flattened to "group/resource[names]" → verbs. */
    static TreeMap<String, Set<String>> grants(JsonNode role) {
        TreeMap<String, Set<String>> out = new TreeMap<>();
        for (JsonNode rule : Manifests.list(role.at("/rules"))) {
            List<String> names = Manifests.texts(rule.path("resourceNames"));
            String suffix = names.isEmpty() ? "" : "[" + String.join(",", names) + "]";
            for (String group : Manifests.texts(rule.at("/apiGroups"))) {
                for (String resource : Manifests.texts(rule.at("/resources"))) {
                    out.computeIfAbsent(group + "/" + resource + suffix, k -> new TreeSet<>())
                            .addAll(Manifests.texts(rule.at("/verbs")));
                }
            }
        }
        return out;
    }
}
