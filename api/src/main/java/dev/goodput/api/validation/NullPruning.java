package dev.goodput.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Drops fields whose value is null, as the apiserver prunes them from a custom resource before validating it (none of
 * the CRD's fields is nullable): {@code lr: } in YAML means "not set", on a laptop as on a cluster.
 */
public final class NullPruning {
    private NullPruning() {}

    /** A copy of {@code node} without null-valued fields, at any depth. */
    public static JsonNode prune(JsonNode node) {
        JsonNode copy = node.deepCopy();
        pruneInPlace(copy);
        return copy;
    }

    private static void pruneInPlace(JsonNode node) {
        if (node instanceof ObjectNode o) {
            List<String> nulls = new ArrayList<>();
            for (Map.Entry<String, JsonNode> e : o.properties()) {
                if (e.getValue().isNull()) nulls.add(e.getKey());
                else pruneInPlace(e.getValue());
            }
            o.remove(nulls);
        } else if (node instanceof ArrayNode a) {
            a.forEach(NullPruning::pruneInPlace);
        }
    }
}
