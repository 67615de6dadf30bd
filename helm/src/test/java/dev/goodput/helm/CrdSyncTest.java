package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * One CRD file, not two copies: it lives in the chart's crds/ (Helm installs it from there), and each file in the
 * repository's crds/ is a symbolic link to it, so {@code kubectl apply -f crds/} and the operator's CrdUpToDateTest
 * (which regenerates it through the link) read and write the same bytes.
 */
class CrdSyncTest {

    @Test
    void theRepositorysCrdsAreLinksToTheChartsOnlyCopy() throws IOException {
        Path repoCrds = Helm.repo().resolve("crds");
        try (Stream<Path> files = Files.list(repoCrds)) {
            var entries = files.filter(p -> p.toString().endsWith(".yml") || p.toString().endsWith(".yaml")).toList();
            assertThat(entries).as("CRDs in the repository's crds/").isNotEmpty();
            for (Path f : entries) {
                assertThat(Files.isSymbolicLink(f)).as("%s is a link to the chart's copy", f).isTrue();
                assertThat(f.toRealPath()).isEqualTo(Helm.chart().resolve("crds").resolve(f.getFileName()).toRealPath());
            }
        }
    }
}
