package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the real helm binary: {@code $GOODPUT_HELM}, or the copy {@code .ci/install-deps.sh} caches at
 * {@code ~/.cache/goodput/helm/<version>/helm}. A missing binary fails the tests; it never skips them.
 */
final class Helm {
    static final String VERSION = "3.17.3";
    static final String RELEASE = "goodput";
    static final String NAMESPACE = "goodput-system";
    static final YAMLMapper YAML = new YAMLMapper();

    private Helm() {}

    record Result(int exitCode, String stdout, String stderr) {
        String all() {
            return stdout + stderr;
        }
    }

    static Path binary() {
        String env = System.getenv("GOODPUT_HELM");
        Path helm = env != null && !env.isBlank() ? Paths.get(env)
                : Paths.get(System.getProperty("user.home"), ".cache", "goodput", "helm", VERSION, "helm");
        if (!Files.isExecutable(helm)) {
            throw new AssertionError("helm not found at " + helm + " (from " + (env != null && !env.isBlank()
                    ? "GOODPUT_HELM" : "the default cache path") + "): run .ci/install-deps.sh, which installs helm "
                    + VERSION + " there, or point GOODPUT_HELM at a helm binary");
        }
        return helm;
    }

    static Path chart() {
        return Paths.get(System.getProperty("goodput.chart.dir", "goodput")).toAbsolutePath().normalize();
    }

    static Path repo() {
        return Paths.get(System.getProperty("goodput.repo.dir", "..")).toAbsolutePath().normalize();
    }

    /** Runs helm with the given arguments in a private HELM_*_HOME and no kubeconfig: nothing reaches a cluster. */
    static Result run(String... args) {
        Path home = Paths.get(System.getProperty("goodput.helm.home", "target/helm-home")).toAbsolutePath();
        List<String> command = new ArrayList<>();
        command.add(binary().toString());
        command.addAll(Arrays.asList(args));
        try {
            Files.createDirectories(home);
            Path out = Files.createTempFile(home, "helm", ".out");
            Path err = Files.createTempFile(home, "helm", ".err");
            ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
            pb.environment().put("HELM_CACHE_HOME", home.resolve("cache").toString());
            pb.environment().put("HELM_CONFIG_HOME", home.resolve("config").toString());
            pb.environment().put("HELM_DATA_HOME", home.resolve("data").toString());
            pb.environment().put("KUBECONFIG", home.resolve("no-kubeconfig").toString());
            Process p = pb.start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("helm timed out: " + command);
            }
            Result r = new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
            Files.delete(out);
            Files.delete(err);
            return r;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted running " + command, e);
        }
    }

    /** {@code helm template} of the chart as release goodput in goodput-system, plus the given flags. */
    static Result template(String... flags) {
        return template(chart(), flags);
    }

    static Result template(Path chart, String... flags) {
        List<String> args = new ArrayList<>(List.of("template", RELEASE, chart.toString(), "--namespace", NAMESPACE));
        args.addAll(Arrays.asList(flags));
        return run(args.toArray(String[]::new));
    }

    /** Renders and parses every document; fails with helm's own message when rendering fails. */
    static Manifests render(String... flags) {
        Result r = template(flags);
        assertThat(r.exitCode()).as("helm template %s failed:%n%s", String.join(" ", flags), r.stderr()).isZero();
        return Manifests.parse(r.stdout());
    }

    static List<JsonNode> parseYamlDocuments(String yaml) {
        List<JsonNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(yaml)) {
            while (it.hasNext()) {
                JsonNode doc = it.next();
                if (doc != null && !doc.isNull() && !doc.isMissingNode() && doc.size() > 0) {
                    docs.add(doc);
                }
            }
        } catch (IOException e) {
            throw new AssertionError("rendered manifests are not valid YAML: " + e.getMessage(), e);
        }
        return docs;
    }
}
