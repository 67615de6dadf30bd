package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import org.junit.jupiter.api.Test;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;

/**
 * NOTES.txt renders and tells the user how to run an example and where to look. {@code helm template} does not
 * render NOTES and {@code helm install --dry-run} needs a cluster, so a copy of the chart renders NOTES.txt into a
 * ConfigMap.
 */
class NotesTest {

    @Test
    void notesTellHowToApplyAnExampleAndWhereToLook(@TempDir Path dir) throws IOException {
        Path chart = dir.resolve("goodput");
        copy(Helm.chart(), chart);
        String notes = Files.readString(chart.resolve("templates/NOTES.txt"));
        Files.writeString(chart.resolve("templates/zz-notes-test.yaml"), "{{- define \"test.notes\" }}" + notes
                + "{{- end }}\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include \"test.notes\" . | quote }}\n");

        String all = render(chart);
        assertThat(all).contains("kubectl apply -f examples/fashion-mnist.yaml", "get tj", "all namespaces",
                "goodput/trainer:0.1.0-cuda", "rollout status deployment/goodput", "/q/metrics",
                "grafana_dashboard=1", "No ServiceMonitor");

        String scoped = render(chart, "--set", "watchNamespaces={team-a,team-b}", "--api-versions", "monitoring.coreos.com/v1");
        assertThat(scoped).contains("these namespaces: team-a, team-b", "kubectl -n team-a apply -f examples/fashion-mnist.yaml",
                "kubectl -n team-a get tj", "ServiceMonitor goodput scrapes", "PodMonitor goodput-trainers");
    }

    private static String render(Path chart, String... flags) {
        Helm.Result r = Helm.template(chart, Stream.concat(Stream.of("--show-only", "templates/zz-notes-test.yaml"),
                Stream.of(flags)).toArray(String[]::new));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        JsonNode cm = Manifests.parse(r.stdout()).one("ConfigMap");
        return cm.at("/data/notes").asText();
    }

    private static void copy(Path from, Path to) throws IOException {
        Files.walkFileTree(from, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes a) throws IOException {
                Files.createDirectories(to.resolve(from.relativize(d)));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path f, BasicFileAttributes a) throws IOException {
                Files.copy(f, to.resolve(from.relativize(f)));
                return FileVisitResult.CONTINUE;
            }
        });
    }
}
