package dev.goodput.api.validation;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelValidationException;
import dev.cel.common.types.SimpleType;
import dev.cel.compiler.CelCompiler;
import dev.cel.compiler.CelCompilerFactory;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import dev.cel.runtime.CelRuntimeFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The CRD's CEL rules ({@code x-kubernetes-validations}) run on a manifest as the apiserver runs them on create: each
 * rule with {@code self} bound to the value at the schema node that declares it, values typed by the schema (a
 * {@code number} written as {@code 1} is the double 1.0, an {@code integer} an int), and a failure named by the
 * rule's {@code fieldPath} below that node. Rules comparing with {@code oldSelf} are transition rules: the apiserver
 * runs them only on update, and so they are compiled (to catch a broken rule) but not run here.
 *
 * <p>Every rule compiles when the CRD is loaded, so a rule using a Kubernetes-only CEL library (which this standard
 * environment lacks) fails the build's tests, not a user's run.
 */
public final class CelRuleCheck {
    /** A compiled rule, kept under the schema path that declares it (properties dotted, {@code []} for items). */
    record Rule(String source, String message, String fieldPath, boolean transition,
                CelRuntime.Program program) {}

    public record Counts(int onCreate, int onUpdateOnly) {}

    private static final CelCompiler COMPILER = CelCompilerFactory.standardCelCompilerBuilder()
            .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
            .addVar("self", SimpleType.DYN)
            .addVar("oldSelf", SimpleType.DYN)
            .build();
    private static final CelRuntime RUNTIME = CelRuntimeFactory.standardCelRuntimeBuilder().build();

    private final JsonNode root;
    /** The rules by the schema path that declares them. */
    private final Map<String, List<Rule>> rules = new LinkedHashMap<>();

    CelRuleCheck(JsonNode openApiV3Schema) {
        this.root = openApiV3Schema;
        collect(openApiV3Schema, "");
    }

    Counts counts() {
        List<Rule> all = rules.values().stream().flatMap(List::stream).toList();
        int transition = (int) all.stream().filter(Rule::transition).count();
        return new Counts(all.size() - transition, transition);
    }

    List<String> check(JsonNode manifest) {
        List<String> problems = new ArrayList<>();
        evaluate(root, manifest, "", problems);
        return problems;
    }

    private void collect(JsonNode schema, String path) {
        for (JsonNode v : schema.path("x-kubernetes-validations")) {
            String source = v.path("rule").asText();
            CelAbstractSyntaxTree ast;
            try {
                ast = COMPILER.compile(source).getAst();
            } catch (CelValidationException e) {
                throw new IllegalStateException("the CRD's rule at " + (path.isEmpty() ? "the top" : path)
                        + " does not compile: " + source + ": " + e.getMessage(), e);
            }
            boolean transition = ast.getReferenceMap().values().stream().anyMatch(r -> "oldSelf".equals(r.name()));
            try {
                Rule rule = new Rule(source, v.path("message").asText(source), v.path("fieldPath").asText(""), transition,
                        RUNTIME.createProgram(ast));
                rules.computeIfAbsent(path, p -> new ArrayList<>()).add(rule);
            } catch (CelEvaluationException e) {
                throw new IllegalStateException("the CRD's rule " + source + " cannot run: " + e.getMessage(), e);
            }
        }
        schema.path("properties").properties().forEach(e -> collect(e.getValue(), join(path, e.getKey())));
        if (schema.path("items").isObject()) collect(schema.get("items"), path + "[]");
        if (schema.path("additionalProperties").isObject()) collect(schema.get("additionalProperties"), path + "[]");
    }

    /** Walks the manifest along the schema; at each node that carries rules, runs them on the value found there. */
    private void evaluate(JsonNode schema, JsonNode value, String at, List<String> problems) {
        if (value == null || value.isMissingNode() || value.isNull()) return;
        if (schema.has("x-kubernetes-validations")) {
            Object self = CelValues.of(value, schema);
            for (Rule r : rules.getOrDefault(at.replaceAll("\\[[^]]*]", "[]"), List.of())) {
                if (r.transition()) continue;
                if (!passes(r, self)) problems.add(problem(join(at, r.fieldPath().replaceFirst("^\\.", "")), r.message()));
            }
        }
        if (value.isObject()) {
            schema.path("properties").properties().forEach(e -> evaluate(e.getValue(), value.get(e.getKey()),
                    join(at, e.getKey()), problems));
            if (schema.path("additionalProperties").isObject()) {
                value.properties().forEach(e -> {
                    if (!schema.path("properties").has(e.getKey())) {
                        evaluate(schema.get("additionalProperties"), e.getValue(), at + "[" + e.getKey() + "]", problems);
                    }
                });
            }
        } else if (value.isArray() && schema.path("items").isObject()) {
            for (int i = 0; i < value.size(); i++) evaluate(schema.get("items"), value.get(i), at + "[" + i + "]", problems);
        }
    }

    /**
     * A rule that cannot be evaluated on this value (its types are wrong, which the schema check already reports)
     * does not add a second, confusing message.
     */
    private static boolean passes(Rule r, Object self) {
        try {
            return Boolean.TRUE.equals(r.program().eval(Map.of("self", self)));
        } catch (CelEvaluationException e) {
            return true;
        }
    }

    /** The rule's message, led by the field as every other problem is (messages may already start with it). */
    static String problem(String field, String message) {
        if (message.startsWith(field + ":")) return message;
        if (message.startsWith(field + " ")) return field + ": " + message.substring(field.length() + 1);
        return field + ": " + message;
    }

    private static String join(String parent, String child) {
        return parent.isEmpty() ? child : child.isEmpty() ? parent : parent + "." + child;
    }

    /** JSON values as CEL sees a custom resource's: typed by the schema, objects as maps, lists as lists. */
    static final class CelValues {
        private CelValues() {}

        static Object of(JsonNode value, JsonNode schema) {
            String type = schema.path("type").asText("");
            if (value.isObject()) {
                Map<String, Object> map = new LinkedHashMap<>();
                value.properties().forEach(e -> {
                    JsonNode child = schema.path("properties").has(e.getKey()) ? schema.path("properties").get(e.getKey())
                            : schema.path("additionalProperties");
                    map.put(e.getKey(), of(e.getValue(), child));
                });
                return map;
            }
            if (value.isArray()) {
                List<Object> list = new ArrayList<>();
                value.forEach(v -> list.add(of(v, schema.path("items"))));
                return list;
            }
            if (value.isNumber()) {
                if ("number".equals(type)) return value.doubleValue();
                if ("integer".equals(type) || value.isIntegralNumber()) return value.longValue();
                return value.doubleValue();
            }
            if (value.isBoolean()) return value.booleanValue();
            return value.asText();
        }
    }
}
