package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** The chart's crds/ is a byte-identical copy of the repository's generated crds/ (helm/sync-crds.sh makes it). */
class CrdSyncTest {

    @Test
    void chartCrdsAreByteIdenticalToTheGeneratedOnes() throws IOException {
        List<String> source = names(Helm.repo().resolve("crds"));
        List<String> copy = names(Helm.chart().resolve("crds"));
        assertThat(source).as("CRDs in the repository's crds/").isNotEmpty();
        assertThat(copy).as("helm/goodput/crds/ differs from crds/: run helm/sync-crds.sh").isEqualTo(source);
        for (String name : source) {
            long mismatch = Files.mismatch(Helm.repo().resolve("crds").resolve(name), Helm.chart().resolve("crds").resolve(name));
            assertThat(mismatch).as("helm/goodput/crds/%s differs from crds/%s at byte %d: run helm/sync-crds.sh",
                    name, name, mismatch).isEqualTo(-1L);
        }
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".yml") || n.endsWith(".yaml"))
                    .sorted().toList();
        }
    }
}
