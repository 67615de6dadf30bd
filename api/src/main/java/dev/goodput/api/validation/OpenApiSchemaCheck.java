package dev.goodput.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.DisallowUnknownKeywordFactory;
import com.networknt.schema.JsonMetaSchema;
import com.networknt.schema.JsonSchema;
import com.networknt.schema.JsonSchemaFactory;
import com.networknt.schema.NonValidationKeyword;
import com.networknt.schema.SpecVersion;
import com.networknt.schema.ValidationMessage;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A manifest against the CRD's structural schema. OpenAPI 3.0's schema is JSON Schema draft 4 in the parts a CRD may
 * use (a boolean {@code exclusiveMinimum}, as the apiserver reads it), plus the {@code x-kubernetes-*} extensions,
 * which carry no assertion of their own here ({@link CelRuleCheck} runs the rules). Any other keyword fails at load,
 * so a CRD using something this check would silently ignore fails the build rather than a user's run.
 */
final class OpenApiSchemaCheck {
    private static final List<String> KUBERNETES_KEYWORDS = List.of("x-kubernetes-validations",
            "x-kubernetes-int-or-string", "x-kubernetes-preserve-unknown-fields", "x-kubernetes-embedded-resource",
            "x-kubernetes-list-type", "x-kubernetes-list-map-keys", "x-kubernetes-map-type", "nullable", "example",
            "externalDocs");
    /** A pattern that only lists words, {@code ^(a|b|c)$}, is an enumeration and is said as one. */
    private static final Pattern WORDS = Pattern.compile("\\^\\(([A-Za-z0-9_|-]+)\\)\\$");

    private final JsonNode root;
    private final JsonSchema schema;

    OpenApiSchemaCheck(JsonNode openApiV3Schema) {
        this.root = openApiV3Schema;
        JsonMetaSchema v4 = JsonMetaSchema.getV4();
        JsonMetaSchema.Builder meta = JsonMetaSchema.builder(v4.getIri(), v4)
                .unknownKeywordFactory(DisallowUnknownKeywordFactory.getInstance());
        KUBERNETES_KEYWORDS.forEach(k -> meta.keyword(new NonValidationKeyword(k)));
        JsonMetaSchema openApi = meta.build();
        this.schema = JsonSchemaFactory.getInstance(SpecVersion.VersionFlag.V4,
                b -> b.metaSchema(openApi).defaultMetaSchemaIri(openApi.getIri())).getSchema(openApiV3Schema);
        this.schema.initializeValidators(); // every keyword now, so an unknown one fails here and not mid-run
    }

    List<String> check(JsonNode manifest) {
        return schema.validate(manifest).stream()
                .sorted(Comparator.comparing((ValidationMessage m) -> m.getInstanceLocation().toString())
                        .thenComparing(ValidationMessage::getType))
                .map(this::describe)
                .distinct()
                .toList();
    }

    private String describe(ValidationMessage m) {
        String field = field(m.getInstanceLocation().toString());
        JsonNode value = m.getInstanceNode();
        JsonNode where = keywordParent(m);
        switch (m.getType()) {
            case "required":
                return join(field, m.getProperty()) + ": missing";
            case "minimum":
                return field + ": must be " + (where.path("exclusiveMinimum").asBoolean() ? "> " : ">= ")
                        + plain(where.path("minimum")) + ", got " + value;
            case "maximum":
                return field + ": must be " + (where.path("exclusiveMaximum").asBoolean() ? "< " : "<= ")
                        + plain(where.path("maximum")) + ", got " + value;
            case "pattern":
                return field + ": " + value + " is not " + patternInWords(where.path("pattern").asText());
            case "type":
                return field + ": expected " + where.path("type").asText() + ", got " + value.getNodeType().toString().toLowerCase();
            default:
                String text = m.getMessage();
                int colon = text.indexOf(": ");
                return field + ": " + (colon >= 0 && text.startsWith("$") ? text.substring(colon + 2) : text);
        }
    }

    /** The schema object holding the keyword that failed (its siblings say whether a bound is exclusive). */
    private JsonNode keywordParent(ValidationMessage m) {
        String fragment = m.getSchemaLocation().getFragment().toString();
        int last = fragment.lastIndexOf('/');
        return last <= 0 ? root : root.at(fragment.substring(0, last));
    }

    static String patternInWords(String pattern) {
        Matcher words = WORDS.matcher(pattern);
        if (words.matches()) return "one of " + words.group(1).replace("|", ", ");
        if (pattern.contains("ms|s|m|h")) return "a duration such as 90s, 30m or 1h30m";
        if (pattern.contains("Ki|Mi|Gi")) return "a quantity such as 500m, 2, 512Mi or 4Gi";
        if (pattern.startsWith("^(auto|")) return "auto or a positive integer";
        return "of the form " + pattern;
    }

    /** A bound as a person writes it: 1 rather than the generator's 1.0. */
    private static String plain(JsonNode bound) {
        double v = bound.asDouble();
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? String.valueOf((long) v) : bound.asText();
    }

    /** {@code $.spec.model.width} → {@code spec.model.width}, as the apiserver names fields. */
    static String field(String jsonPath) {
        return jsonPath.startsWith("$.") ? jsonPath.substring(2) : jsonPath.equals("$") ? "" : jsonPath;
    }

    private static String join(String parent, String child) {
        return parent.isEmpty() ? child : parent + "." + child;
    }
}
