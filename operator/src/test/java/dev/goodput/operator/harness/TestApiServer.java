package dev.goodput.operator.harness;

import dev.goodput.operator.TrainingJob;
import io.fabric8.kubeapitest.KubeAPIServer;
import io.fabric8.kubeapitest.KubeAPIServerConfigBuilder;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One real etcd + kube-apiserver for the whole test JVM (io.fabric8:kube-api-test, offline, loopback only), started on
 * first use and stopped by a shutdown hook. The checked-in CRD ({@code crds/trainingjobs.goodput.dev-v1.yml}) is
 * applied once and waited for. What this apiserver lacks, because nothing else runs: no scheduler, kubelet,
 * controller-manager (so no garbage collection of owned objects, no namespace deletion, no PV binding). The
 * {@link StandInKubelet} plays the scheduler and kubelet for pods.
 *
 * <p>The kubeconfig is written to {@code target/kube-api-test/kubeconfig} (the system property
 * {@value #KUBECONFIG_PROPERTY} holds its path), so kubectl can be pointed at it while a test runs. Requests made
 * by ServiceAccounts are written to the audit log {@link #auditLog()} beside it.
 */
public final class TestApiServer {
    public static final String KUBECONFIG_PROPERTY = "goodput.test.kubeconfig";
    private static final String AUDIT_POLICY = "audit-policy.yaml";
    private static final String AUDIT_LOG = "audit.log";
    private static final AtomicInteger NAMESPACES = new AtomicInteger();
    private static TestApiServer instance;
    private static RuntimeException failure;

    private final Path binaries;
    private final Path kubeconfig;
    private final String kubeconfigYaml;
    private final Duration startup;

    private TestApiServer(Path binaries, Path kubeconfig, String kubeconfigYaml, Duration startup) {
        this.binaries = binaries;
        this.kubeconfig = kubeconfig;
        this.kubeconfigYaml = kubeconfigYaml;
        this.startup = startup;
    }

    /** The JVM's apiserver, started (with the CRD applied) on first call. */
    public static synchronized TestApiServer get() {
        if (failure != null) {
            // One failed start is reported to every test class, not retried by each.
            throw new IllegalStateException("the test apiserver failed to start earlier: " + failure.getMessage(), failure);
        }
        if (instance == null && System.getProperty(KUBECONFIG_PROPERTY) != null) {
            // Started by this JVM under another class loader (a @QuarkusTest's): use it, do not start a second one.
            Path kubeconfig = Path.of(System.getProperty(KUBECONFIG_PROPERTY));
            try {
                instance = new TestApiServer(KubeBinaries.locate(), kubeconfig, Files.readString(kubeconfig), Duration.ZERO);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (instance == null) {
            try {
                instance = start();
            } catch (RuntimeException e) {
                failure = e;
                throw e;
            }
        }
        return instance;
    }

    private static TestApiServer start() {
        Path bin = KubeBinaries.locate();
        Path dir;
        try {
            dir = Files.createDirectories(Path.of("target", "kube-api-test").toAbsolutePath());
            // Requests of ServiceAccounts (not the tests' admin) are audited, so a test can list what an operator
            // running under a chart's ServiceAccount did, and find any request RBAC refused.
            Files.writeString(dir.resolve(AUDIT_POLICY), """
                    apiVersion: audit.k8s.io/v1
                    kind: Policy
                    omitStages: ["RequestReceived"]
                    rules:
                      - level: Metadata
                        userGroups: ["system:serviceaccounts"]
                      - level: None
                    """);
            Files.deleteIfExists(dir.resolve(AUDIT_LOG));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long t0 = System.nanoTime();
        KubeAPIServer server = new KubeAPIServer(KubeAPIServerConfigBuilder.anAPIServerConfig()
                .withTestDir(KubeBinaries.testDir().toString())
                .withApiServerVersion(KubeBinaries.version(bin))
                // Never download (the binaries come from .ci/kube-binaries.sh). Set in code: kube-api-test 7.3.1
                // casts the KUBE_API_TEST_OFFLINE_MODE env string to Boolean and crashes.
                .withOfflineMode(true)
                .withWaitForEtcdHealthCheckOnStartup(true)
                .withStartupTimeout(180_000)
                .withApiServerFlag("--bind-address", "127.0.0.1")
                .withApiServerFlag("--advertise-address", "127.0.0.1")
                .withApiServerFlag("--audit-policy-file", dir.resolve(AUDIT_POLICY).toString())
                .withApiServerFlag("--audit-log-path", dir.resolve(AUDIT_LOG).toString())
                .withApiServerFlag("--audit-log-format", "json")
                .withApiServerFlag("--audit-log-mode", "blocking")
                .build());
        server.start();
        Runtime.getRuntime().addShutdownHook(new Thread(server::stop, "kube-api-test-stop"));
        Duration startup = Duration.ofNanos(System.nanoTime() - t0);
        try {
            String yaml = server.getKubeConfigYaml();
            Path kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, yaml);
            System.setProperty(KUBECONFIG_PROPERTY, kubeconfig.toString());
            TestApiServer api = new TestApiServer(bin, kubeconfig, yaml, startup);
            try (KubernetesClient client = api.newClient()) {
                applyCrd(client);
            }
            System.out.printf("[test-apiserver] kube-apiserver %s from %s ready in %d ms; kubeconfig %s%n",
                    KubeBinaries.version(bin), bin, startup.toMillis(), kubeconfig);
            return api;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static void applyCrd(KubernetesClient client) {
        Path file = Repo.root().resolve("crds").resolve(TrainingJob.CRD_NAME + "-v1.yml");
        CustomResourceDefinition crd;
        try (var in = Files.newInputStream(file)) {
            crd = client.apiextensions().v1().customResourceDefinitions().load(in).item();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        client.resource(crd).fieldManager("goodput-tests").forceConflicts().serverSideApply();
        client.apiextensions().v1().customResourceDefinitions().withName(TrainingJob.CRD_NAME)
                .waitUntilCondition(c -> c != null && c.getStatus() != null && c.getStatus().getConditions() != null
                        && c.getStatus().getConditions().stream().anyMatch(x -> "Established".equals(x.getType()) && "True".equals(x.getStatus())),
                        60, TimeUnit.SECONDS);
    }

    public KubernetesClient newClient() {
        Config config = Config.fromKubeconfig(kubeconfigYaml);
        config.setRequestRetryBackoffLimit(3);
        return new KubernetesClientBuilder().withConfig(config).build();
    }

    /** A fresh namespace (there is no namespace controller, so it is never deleted; the apiserver is thrown away). */
    public String createNamespace(KubernetesClient client, String prefix) {
        String name = (prefix + "-" + NAMESPACES.incrementAndGet() + "-" + Long.toString(System.nanoTime() % 100_000, 36))
                .toLowerCase(Locale.ROOT);
        client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(name).endMetadata().build()).create();
        return name;
    }

    public Path kubeconfig() {
        return kubeconfig;
    }

    public Path binaries() {
        return binaries;
    }

    /**
     * The apiserver's audit log (JSON lines, level Metadata): every request made by a ServiceAccount, with its user,
     * verb, resource, namespace and response code. Nothing the tests do as admin is in it.
     */
    public Path auditLog() {
        return kubeconfig.resolveSibling(AUDIT_LOG);
    }

    public Duration startupTime() {
        return startup;
    }

    /** Runs the kubectl next to the apiserver binaries against this apiserver. */
    public Result kubectl(String... args) {
        return kubectlWithInput(null, args);
    }

    /** Runs kubectl with {@code stdin} as its standard input (for {@code apply -f -}). */
    public Result kubectlWithInput(String stdin, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(binaries.resolve("kubectl").toString());
        cmd.add("--kubeconfig=" + kubeconfig);
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            try (var in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin.getBytes(StandardCharsets.UTF_8));
                }
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("kubectl timed out: " + cmd);
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    public record Result(int exitCode, String output) {}
}
