package dev.goodput.operator.harness;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Renders the Helm chart {@code helm/goodput} with the real helm binary, as the chart's own tests do
 * ({@code helm/src/test/java/dev/goodput/helm/Helm.java}): {@code $GOODPUT_HELM}, or the copy
 * {@code .ci/install-deps.sh} caches at {@code ~/.cache/goodput/helm/3.17.3/helm}. Missing, it is an error that says
 * so, not a skip. helm runs with a private home and no kubeconfig: it reaches no cluster.
 */
public final class HelmChart {
    public static final String VERSION = "3.17.3";

    private HelmChart() {}

    public static Path binary() {
        String env = System.getenv("GOODPUT_HELM");
        Path helm = env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "goodput", "helm", VERSION, "helm");
        if (!Files.isExecutable(helm)) {
            throw new IllegalStateException("helm not found at " + helm + ": run .ci/install-deps.sh, which installs helm "
                    + VERSION + " there, or point GOODPUT_HELM at a helm binary");
        }
        return helm;
    }

    public static Path chart() {
        return Repo.root().resolve("helm").resolve("goodput");
    }

    /** {@code helm template <release> helm/goodput --namespace <namespace> <flags>}: the manifests, CRDs excluded. */
    public static String template(String release, String namespace, String... flags) {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "template", release, chart().toString(),
                "--namespace", namespace));
        cmd.addAll(List.of(flags));
        try {
            Path home = Files.createDirectories(Path.of("target", "helm-home").toAbsolutePath());
            Path err = Files.createTempFile(home, "helm", ".err");
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
            pb.environment().put("HELM_CACHE_HOME", home.resolve("cache").toString());
            pb.environment().put("HELM_CONFIG_HOME", home.resolve("config").toString());
            pb.environment().put("HELM_DATA_HOME", home.resolve("data").toString());
            pb.environment().put("KUBECONFIG", home.resolve("no-kubeconfig").toString());
            Process p = pb.start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("helm timed out: " + cmd);
            }
            String stderr = Files.readString(err);
            Files.delete(err);
            if (p.exitValue() != 0) {
                throw new IllegalStateException("helm template failed (" + p.exitValue() + "): " + stderr);
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
