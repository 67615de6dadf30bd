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
import java.util.List;
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
        String text;
        try {
            text = Files.readString(file);
        } catch (NoSuchFileException e) {
            throw new ManifestException(file.toString(), List.of("file not found"));
        } catch (IOException e) {
            throw new ManifestException(file.toString(), List.of("cannot read: " + e.getMessage()));
        }
        return parse(text, file.toString());
    }

    public static TrainingJobManifest parse(String text, String source) {
        TrainingJobManifest manifest;
        try {
            manifest = YAML.readValue(text, TrainingJobManifest.class);
        } catch (UnrecognizedPropertyException e) {
            String known = e.getKnownPropertyIds() == null ? "" : e.getKnownPropertyIds().stream()
                    .map(Object::toString).sorted().collect(Collectors.joining(", "));
            throw new ManifestException(source, List.of(path(e) + ": unknown field (line " + line(e) + ")"
                    + (known.isEmpty() ? "" : "; known fields here: " + known)));
        } catch (InvalidFormatException e) {
            throw new ManifestException(source, List.of(path(e) + ": '" + e.getValue() + "' is not a valid "
                    + simpleType(e) + " (line " + line(e) + ")"));
        } catch (MismatchedInputException e) {
            throw new ManifestException(source, List.of(path(e) + ": expected " + simpleType(e) + " (line " + line(e) + ")"));
        } catch (JsonProcessingException e) {
            throw new ManifestException(source, List.of("not valid YAML: " + e.getOriginalMessage() + " (line " + line(e) + ")"));
        }
        if (manifest == null) {
            throw new ManifestException(source, List.of("the file is empty"));
        }
        List<String> problems = SpecValidator.validate(manifest);
        if (!problems.isEmpty()) {
            throw new ManifestException(source, problems);
        }
        return manifest;
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

    private static int line(JsonProcessingException e) {
        return e.getLocation() == null ? -1 : e.getLocation().getLineNr();
    }
}
