package dev.goodput.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.databind.JsonMappingException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import dev.goodput.api.validation.CrdRules;
import dev.goodput.api.validation.NullPruning;
import java.util.Map;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.stream.Collectors;

/**
 * Reads a TrainingJob manifest strictly: an unknown field or a wrong type is an error naming the field and the file,
 * because a typo in a training config silently falling back to a default wastes GPU-hours.
 */
public final class ManifestReader {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private ManifestReader() {}

    public static ObjectMapper yaml() {
        return YAML;
    }

    public static TrainingJobManifest read(Path file) {
        return read(file, Map.of());
    }

    /** Reads a manifest with {@code overrides} (dotted paths such as spec.training.epochs) applied before binding. */
    public static TrainingJobManifest read(Path file, Map<String, String> overrides) {
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ManifestException(file.toString(), List.of("file not found"));
        } catch (IOException e) {
            throw new ManifestException(file.toString(), List.of("cannot read: " + e.getMessage()));
        }
        return parse(text, file.toString(), overrides);
    }

    public static TrainingJobManifest parse(String text, String source) {
        return parse(text, source, Map.of());
    }

    /**
     * Binds strictly (an unknown field or a wrong type is named first, with its line, as the apiserver's strict field
     * validation names it), then judges the manifest as the apiserver would: the CRD's schema and CEL rules
     * ({@link CrdRules}), then what the CRD cannot say ({@link SpecValidator}). Fields set to null are dropped before
     * binding, as the apiserver prunes them, so they take their defaults.
     */
    public static TrainingJobManifest parse(String text, String source, Map<String, String> overrides) {
        JsonNode tree;
        TrainingJobManifest manifest;
        try {
            // Bind from the text itself first, so errors carry line numbers.
            if (overrides.isEmpty()) YAML.readValue(text, TrainingJobManifest.class);
            tree = YAML.readTree(text);
            if (tree == null || tree.isMissingNode() || tree.isNull()) {
                throw new ManifestException(source, List.of("the file is empty"));
            }
            for (Map.Entry<String, String> o : overrides.entrySet()) {
                override(tree, o.getKey(), o.getValue(), source);
            }
            tree = NullPruning.prune(tree);
            manifest = YAML.treeToValue(tree, TrainingJobManifest.class);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", "));
            throw new ManifestException(source, List.of(path(e) + ": unknown field" + at(e)
                    + (known.isEmpty() ? "" : "; known fields here: " + known)));
        } catch (InvalidFormatException e) {
            throw new ManifestException(source, List.of(path(e) + ": '" + e.getValue() + "' is not a valid "
                    + simpleType(e) + at(e)));
        } catch (MismatchedInputException e) {
            throw new ManifestException(source, List.of(path(e) + ": expected " + simpleType(e) + at(e)));
        } catch (JsonProcessingException e) {
            throw new ManifestException(source, List.of("not valid YAML: " + e.getOriginalMessage() + at(e)));
        }
        List<String> problems = new ArrayList<>(CrdRules.trainingJob().check(tree));
        problems.addAll(SpecValidator.validate(manifest));
        if (!problems.isEmpty()) {
            throw new ManifestException(source, problems.stream().distinct().toList());
        }
        return manifest;
    }

    private static void override(JsonNode tree, String path, String value, String source) throws JsonProcessingException {
        String[] parts = path.split("\\.");
        JsonNode node = tree;
        for (int i = 0; i < parts.length - 1; i++) {
            if (!(node instanceof ObjectNode obj)) {
                throw new ManifestException(source, List.of(path + ": cannot set, " + parts[i - 1] + " is not an object"));
            }
            JsonNode child = obj.get(parts[i]);
            if (child == null || child.isNull()) child = obj.putObject(parts[i]);
            node = child;
        }
        if (!(node instanceof ObjectNode obj)) {
            throw new ManifestException(source, List.of(path + ": cannot set, its parent is not an object"));
        }
        // Parse the value as YAML so numbers, booleans and lists keep their types.
        JsonNode parsed = YAML.readTree(value);
        obj.set(parts[parts.length - 1], parsed == null || parsed.isMissingNode() ? obj.nullNode() : parsed);
    }

    private static String path(JsonMappingException e) {
        StringBuilder sb = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                if (!sb.isEmpty()) sb.append('.');
                sb.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                sb.append('[').append(ref.getIndex()).append(']');
            }
        }
        return sb.isEmpty() ? "(top level)" : sb.toString();
    }

    private static String simpleType(MismatchedInputException e) {
        Class<?> t = e.getTargetType();
        if (t == null) return "another type";
        if (t == Integer.class || t == int.class || t == Long.class || t == long.class) return "integer";
        if (t == Double.class || t == double.class) return "number";
        if (t == Boolean.class || t == boolean.class) return "boolean (true/false)";
        if (t == String.class) return "string";
        if (List.class.isAssignableFrom(t)) return "list";
        return "object";
    }

    private static String at(JsonProcessingException e) {
        return e.getLocation() == null || e.getLocation().getLineNr() < 0 ? "" : " (line " + e.getLocation().getLineNr() + ")";
    }
}
