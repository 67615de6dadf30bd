package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The rendered chart against a real kube-apiserver (io.fabric8:kube-api-test: etcd + kube-apiserver with the RBAC
 * authorizer and the default admission plugins, from the binaries .ci/kube-binaries.sh builds): server-side dry run,
 * then for real, under Pod Security "restricted"; then {@code kubectl auth can-i --as} the chart's ServiceAccount shows
 * what the RBAC allows and what it refuses, for all namespaces and for a namespace list. Missing binaries fail.
 */
class ChartOnApiServerTest {
    static KubeAPIServer server;
    static Path kubectl;
    static Path kubeconfig;
    static Path work;

    @BeforeAll
    static void start() throws IOException {
        Path testDir = Paths.get(System.getenv().getOrDefault("KUBE_API_TEST_DIR",
                System.getProperty("user.home") + "/.kubeapitest"));
        Path bin;
        try (Stream<Path> dirs = Files.list(testDir.resolve("k8s"))) {
            bin = dirs.filter(d -> d.getFileName().toString().endsWith("-linux-amd64"))
                    .filter(d -> Stream.of("etcd", "kube-apiserver", "kubectl").allMatch(b -> Files.isExecutable(d.resolve(b))))
                    .max(Comparator.comparing(ChartOnApiServerTest::versionKey)).orElseThrow();
        } catch (IOException | RuntimeException e) {
            throw new AssertionError("no etcd + kube-apiserver + kubectl under " + testDir
                    + "/k8s/<X.Y.Z>-linux-amd64/: run .ci/kube-binaries.sh (or .ci/install-deps.sh)", e);
        }
        String version = bin.getFileName().toString().replace("-linux-amd64", "");
        server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(testDir.toString()).withApiServerVersion(version)
                .withOfflineMode(true) // never download; set in code (the env variable crashes kube-api-test 7.3.1)
                .withWaitForEtcdHealthCheckOnStartup(true).withStartupTimeout(180_000)
                .withApiServerFlag("--bind-address", "127.0.0.1").withApiServerFlag("--advertise-address", "127.0.0.1")
                .build());
        server.start();
        kubectl = bin.resolve("kubectl");
        work = Files.createDirectories(Paths.get("target", "chart-on-apiserver").toAbsolutePath());
        kubeconfig = work.resolve("kubeconfig");
        Files.writeString(kubeconfig, server.getKubeConfigYaml());
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.stop();
        }
    }

    @Test
    void allNamespaces() throws IOException {
        namespace("goodput-system", true);
        namespace("ml-team", false);
        install("goodput", "goodput-system");
        String sa = "system:serviceaccount:goodput-system:goodput";

        for (String ns : List.of("ml-team", "default")) {
            can(sa, ns, "get", "trainingjobs.goodput.dev");
            can(sa, ns, "watch", "trainingjobs.goodput.dev");
            can(sa, ns, "patch", "trainingjobs.goodput.dev", "--subresource=status");
            can(sa, ns, "update", "trainingjobs.goodput.dev", "--subresource=finalizers");
            can(sa, ns, "delete", "trainingjobs.goodput.dev"); // ttlSecondsAfterFinished
            can(sa, ns, "create", "pods");
            can(sa, ns, "patch", "pods");
            can(sa, ns, "delete", "pods");
            can(sa, ns, "create", "configmaps");
            can(sa, ns, "patch", "configmaps");
            can(sa, ns, "create", "persistentvolumeclaims");
            can(sa, ns, "get", "persistentvolumeclaims");
            can(sa, ns, "create", "events");
            // A multi-worker job's headless Service and NetworkPolicy, by server-side apply.
            can(sa, ns, "create", "services");
            can(sa, ns, "patch", "services");
            can(sa, ns, "create", "networkpolicies.networking.k8s.io");
            can(sa, ns, "patch", "networkpolicies.networking.k8s.io");
            cannot(sa, ns, "create", "trainingjobs.goodput.dev");
            cannot(sa, ns, "update", "trainingjobs.goodput.dev");
            cannot(sa, ns, "update", "trainingjobs.goodput.dev", "--subresource=status");
            cannot(sa, ns, "deletecollection", "trainingjobs.goodput.dev");
            cannot(sa, ns, "create", "pods", "--subresource=exec");
            cannot(sa, ns, "create", "pods", "--subresource=eviction");
            cannot(sa, ns, "update", "pods");
            cannot(sa, ns, "patch", "pods", "--subresource=status");
            // It writes ConfigMaps and claims by server-side apply and never reads, lists or deletes them
            // (owner references let the garbage collector delete them with the job).
            cannot(sa, ns, "get", "configmaps");
            cannot(sa, ns, "list", "configmaps");
            cannot(sa, ns, "get", "services");
            cannot(sa, ns, "list", "services");
            cannot(sa, ns, "delete", "services");
            cannot(sa, ns, "delete", "networkpolicies.networking.k8s.io");
            cannot(sa, ns, "list", "networkpolicies.networking.k8s.io");
            cannot(sa, ns, "delete", "configmaps");
            cannot(sa, ns, "delete", "persistentvolumeclaims");
            cannot(sa, ns, "patch", "events");
            cannot(sa, ns, "create", "events.events.k8s.io");
            cannot(sa, ns, "create", "deployments.apps");
            cannot(sa, ns, "create", "jobs.batch");
            cannot(sa, ns, "create", "serviceaccounts");
            cannot(sa, ns, "create", "rolebindings.rbac.authorization.k8s.io");
            cannot(sa, ns, "create", "leases.coordination.k8s.io");
        }
        for (String verb : List.of("get", "create", "update", "patch")) {
            can(sa, "goodput-system", verb, "leases.coordination.k8s.io");
        }
        cannot(sa, "goodput-system", "delete", "leases.coordination.k8s.io");
        cannot(sa, "goodput-system", "get", "configmaps/goodput-pricing"); // a mounted file, not read through the API
        can(sa, null, "get", "customresourcedefinitions.apiextensions.k8s.io/trainingjobs.goodput.dev");
        commonRefusals(sa);
    }

    @Test
    void namespaceList() throws IOException {
        namespace("scoped-system", true);
        namespace("team-a", false);
        namespace("team-b", false);
        namespace("team-c", false);
        install("scoped", "scoped-system", "--set", "watchNamespaces={team-a,team-b}");
        String sa = "system:serviceaccount:scoped-system:scoped-goodput";

        for (String ns : List.of("team-a", "team-b")) {
            can(sa, ns, "list", "trainingjobs.goodput.dev");
            can(sa, ns, "patch", "trainingjobs.goodput.dev", "--subresource=status");
            can(sa, ns, "create", "pods");
            can(sa, ns, "watch", "pods");
            can(sa, ns, "patch", "configmaps");
            can(sa, ns, "create", "persistentvolumeclaims");
            can(sa, ns, "delete", "trainingjobs.goodput.dev");
        }
        for (String ns : List.of("team-c", "default", "scoped-system")) {
            cannot(sa, ns, "list", "trainingjobs.goodput.dev");
            cannot(sa, ns, "create", "pods");
            cannot(sa, ns, "list", "pods");
        }
        cannot(sa, null, "list", "pods", "--all-namespaces");
        cannot(sa, null, "list", "trainingjobs.goodput.dev", "--all-namespaces");
        can(sa, "scoped-system", "get", "leases.coordination.k8s.io");
        can(sa, "scoped-system", "patch", "leases.coordination.k8s.io");
        cannot(sa, "scoped-system", "get", "configmaps/scoped-goodput-pricing");
        cannot(sa, "scoped-system", "get", "configmaps/other");
        cannot(sa, "team-a", "create", "leases.coordination.k8s.io");
        commonRefusals(sa);
    }

    /** Never granted, whatever the values: Secrets, cluster objects, RBAC, impersonation, other CRDs. */
    private void commonRefusals(String sa) {
        for (String ns : List.of("default", "kube-system")) {
            cannot(sa, ns, "get", "secrets");
            cannot(sa, ns, "list", "secrets");
            cannot(sa, ns, "watch", "secrets");
            cannot(sa, ns, "create", "serviceaccounts", "--subresource=token");
        }
        cannot(sa, null, "list", "secrets", "--all-namespaces");
        cannot(sa, null, "list", "nodes");
        cannot(sa, null, "list", "namespaces");
        cannot(sa, null, "list", "customresourcedefinitions.apiextensions.k8s.io");
        cannot(sa, null, "get", "customresourcedefinitions.apiextensions.k8s.io/other.example.com");
        cannot(sa, null, "update", "customresourcedefinitions.apiextensions.k8s.io/trainingjobs.goodput.dev");
        cannot(sa, null, "create", "clusterrolebindings.rbac.authorization.k8s.io");
        cannot(sa, null, "impersonate", "users");
        cannot(sa, null, "*", "*");
    }

    private void namespace(String name, boolean restricted) {
        kubectl("create", "namespace", name);
        if (restricted) {
            kubectl("label", "namespace", name, "pod-security.kubernetes.io/enforce=restricted",
                    "pod-security.kubernetes.io/warn=restricted");
        }
    }

    /** Renders the chart (CRD included), applies it with a server-side dry run, then for real. */
    private void install(String release, String namespace, String... flags) throws IOException {
        List<String> args = new ArrayList<>(List.of("template", release, Helm.chart().toString(), "--namespace",
                namespace, "--include-crds"));
        args.addAll(Arrays.asList(flags));
        Helm.Result r = Helm.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        Path manifests = work.resolve(release + ".yaml");
        Files.writeString(manifests, r.stdout());
        for (String dryRun : List.of("--dry-run=server", "--dry-run=none")) {
            String out = kubectl("apply", "--server-side", "--field-manager=helm-test", dryRun, "-f", manifests.toString());
            // A Deployment whose pods Pod Security "restricted" would refuse draws a warning.
            assertThat(out).as("kubectl apply %s", dryRun).doesNotContain("would violate PodSecurity")
                    .contains("deployment.apps/" + (release.equals("goodput") ? "goodput" : release + "-goodput"));
        }
        kubectl("wait", "--for=condition=established", "--timeout=60s", "crd/trainingjobs.goodput.dev");
    }

    private void can(String sa, String ns, String verb, String resource, String... more) {
        assertThat(canI(sa, ns, verb, resource, more)).as("%s should be able to %s %s %s in %s", sa, verb, resource,
                String.join(" ", more), ns).isTrue();
    }

    private void cannot(String sa, String ns, String verb, String resource, String... more) {
        assertThat(canI(sa, ns, verb, resource, more)).as("%s must not be able to %s %s %s in %s", sa, verb, resource,
                String.join(" ", more), ns).isFalse();
    }

    private boolean canI(String sa, String ns, String verb, String resource, String... more) {
        List<String> args = new ArrayList<>(List.of("auth", "can-i", verb, resource, "--as", sa));
        if (ns != null) {
            args.addAll(List.of("-n", ns));
        }
        args.addAll(Arrays.asList(more));
        Helm.Result r = exec(args);
        String answer = r.stdout().trim();
        assertThat(answer).as("kubectl %s: %s", String.join(" ", args), r.stderr()).isIn("yes", "no");
        return answer.equals("yes");
    }

    private static String kubectl(String... args) {
        Helm.Result r = exec(Arrays.asList(args));
        assertThat(r.exitCode()).as("kubectl %s%n%s", String.join(" ", args), r.all()).isZero();
        return r.all();
    }

    private static Helm.Result exec(List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(kubectl.toString());
        command.add("--kubeconfig=" + kubeconfig);
        command.addAll(args);
        try {
            Path out = Files.createTempFile(work, "kubectl", ".out");
            Path err = Files.createTempFile(work, "kubectl", ".err");
            Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("kubectl timed out: " + command);
            }
            Helm.Result r = new Helm.Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** 1.34.12 → 1_034_012, so that versions compare as numbers. */
    private static long versionKey(Path dir) {
        String[] parts = dir.getFileName().toString().replace("-linux-amd64", "").split("\\.");
        long key = 0;
        for (int i = 0; i < 3; i++) {
            String digits = i < parts.length ? parts[i].replaceAll("\\D.*", "") : "";
            key = key * 1000 + (digits.isEmpty() ? 0 : Integer.parseInt(digits));
        }
        return key;
    }
}
