package dev.goodput.operator.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds the etcd, kube-apiserver and kubectl binaries that io.fabric8:kube-api-test runs, in its own layout:
 * {@code $KUBE_API_TEST_DIR/k8s/<X.Y.Z>-linux-amd64/{etcd,kube-apiserver,kubectl}} ({@code KUBE_API_TEST_DIR}
 * defaults to {@code ~/.kubeapitest}, as in kube-api-test). {@code KUBE_API_TEST_API_SERVER_VERSION=X.Y.Z} picks one
 * version; otherwise the highest complete one is used. {@code .ci/kube-binaries.sh} builds them from the Go proxy.
 *
 * <p>Missing binaries are an error with instructions, never a skipped test: CI builds them before the tests.
 */
public final class KubeBinaries {
    public static final String DIR_ENV = "KUBE_API_TEST_DIR";
    public static final String VERSION_ENV = "KUBE_API_TEST_API_SERVER_VERSION";
    static final String SUFFIX = "-linux-amd64";
    static final List<String> NAMES = List.of("etcd", "kube-apiserver", "kubectl");

    private KubeBinaries() {}

    public static Path testDir() {
        String env = System.getenv(DIR_ENV);
        return env != null && !env.isBlank() ? Path.of(env) : Path.of(System.getProperty("user.home"), ".kubeapitest");
    }

    /** The directory holding the three binaries, or an exception that says how to get them. */
    public static Path locate() {
        Path k8s = testDir().resolve("k8s");
        String wanted = System.getenv(VERSION_ENV);
        Optional<Path> found;
        if (wanted != null && !wanted.isBlank()) {
            Path dir = k8s.resolve(wanted.replaceFirst("^v", "") + SUFFIX);
            found = complete(dir) ? Optional.of(dir) : Optional.empty();
        } else {
            try (Stream<Path> dirs = Files.list(k8s)) {
                found = dirs.filter(d -> d.getFileName().toString().endsWith(SUFFIX))
                        .filter(KubeBinaries::complete)
                        .max(Comparator.comparing(KubeBinaries::versionKey));
            } catch (IOException e) {
                found = Optional.empty();
            }
        }
        return found.orElseThrow(() -> new IllegalStateException(
                "No complete etcd + kube-apiserver + kubectl under " + k8s + "/"
                        + (wanted == null || wanted.isBlank() ? "<X.Y.Z>" : wanted) + SUFFIX + "/."
                        + " The operator tests run against a real API server and do not skip without one."
                        + " Build the binaries with `.ci/kube-binaries.sh` (Go module proxy, cached per machine),"
                        + " or point " + DIR_ENV + " at a directory holding k8s/<X.Y.Z>" + SUFFIX + "/{etcd,kube-apiserver,kubectl}."));
    }

    /** The version part of the chosen directory, e.g. 1.34.4. */
    public static String version(Path dir) {
        String name = dir.getFileName().toString();
        return name.substring(0, name.length() - SUFFIX.length());
    }

    static boolean complete(Path dir) {
        return NAMES.stream().map(dir::resolve).allMatch(f -> Files.isRegularFile(f) && Files.isExecutable(f));
    }

    private static String versionKey(Path dir) {
        StringBuilder key = new StringBuilder();
        for (String part : version(dir).split("\\.")) {
            key.append(String.format("%08d", part.matches("\\d+") ? Integer.parseInt(part) : 0));
        }
        return key.toString();
    }
}
