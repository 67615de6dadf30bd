package dev.goodput.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The rules the apiserver enforces on a TrainingJob, read from the CRD itself: its OpenAPI schema (bounds, patterns,
 * types, required fields) and its CEL rules ({@code x-kubernetes-validations}). The CRD is generated from the spec
 * classes' annotations, installed by the chart, and packaged into this jar from the same file (CrdUpToDateTest holds
 * it equal to the classes), so a local run and a cluster judge a manifest by one definition. What a CRD cannot say
 * (object names, non-zero durations, a data path for a local run) stays in {@code SpecValidator}.
 *
 * <p>Each problem reads {@code field: what}, the field dotted as the apiserver names it in its causes.
 */
public final class CrdRules {
    /** Where the build puts the CRD (api/pom.xml). */
    static final String RESOURCE = "trainingjobs.goodput.dev-v1.yml";

    private final OpenApiSchemaCheck schema;
    private final CelRuleCheck cel;

    private CrdRules(JsonNode openApiV3Schema) {
        this.schema = new OpenApiSchemaCheck(openApiV3Schema);
        this.cel = new CelRuleCheck(openApiV3Schema);
    }

    /** The rules of the CRD packaged with this jar; loaded and compiled once. */
    public static CrdRules trainingJob() {
        return Packaged.RULES;
    }

    /** The rules of a CRD document (its first version's schema). */
    public static CrdRules of(JsonNode crd) {
        JsonNode s = crd.path("spec").path("versions").path(0).path("schema").path("openAPIV3Schema");
        if (!s.isObject()) throw new IllegalArgumentException("not a CRD with an openAPIV3Schema");
        return new CrdRules(s);
    }

    /**
     * The apiserver's verdict on creating {@code manifest}: schema problems, then the CEL rules' messages (rules that
     * compare with {@code oldSelf} apply only to updates and are not run). Empty when it would be accepted.
     */
    public List<String> check(JsonNode manifest) {
        JsonNode pruned = NullPruning.prune(manifest);
        List<String> problems = new ArrayList<>(schema.check(pruned));
        problems.addAll(cel.check(pruned));
        return problems;
    }

    /** How many CEL rules apply on create, and how many only on update; for tests and the curious. */
    public CelRuleCheck.Counts celRules() {
        return cel.counts();
    }

    private static final class Packaged {
        static final CrdRules RULES = load();

        private static CrdRules load() {
            try (InputStream in = CrdRules.class.getResourceAsStream(RESOURCE)) {
                if (in == null) throw new IllegalStateException(RESOURCE + " is not packaged next to " + CrdRules.class.getName());
                return of(new ObjectMapper(new YAMLFactory()).readTree(in));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
