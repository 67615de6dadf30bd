package dev.goodput.helm;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.StreamSupport;

/** The objects of one {@code helm template} run, with look-ups by kind and name. */
record Manifests(List<JsonNode> objects) {

    static Manifests parse(String yaml) {
        return new Manifests(Helm.parseYamlDocuments(yaml));
    }

    List<JsonNode> ofKind(String kind) {
        return objects.stream().filter(o -> kind.equals(o.path("kind").asText())).toList();
    }

    JsonNode one(String kind) {
        List<JsonNode> all = ofKind(kind);
        assertThat(all).as("exactly one %s", kind).hasSize(1);
        return all.get(0);
    }

    JsonNode named(String kind, String name) {
        return ofKind(kind).stream().filter(o -> name.equals(o.at("/metadata/name").asText())).findFirst()
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name + " in " + kinds()));
    }

    /** Kind → count, sorted: a compact picture of what rendered. */
    Map<String, Long> kinds() {
        return objects.stream().collect(Collectors.groupingBy(o -> o.path("kind").asText(), TreeMap::new,
                Collectors.counting()));
    }

    static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    static List<JsonNode> list(JsonNode array) {
        return StreamSupport.stream(array.spliterator(), false).toList();
    }
}
