package dev.goodput.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.goodput.api.spec.DataSpec;
import dev.goodput.api.spec.Durations;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.validation.CrdRules;
import java.util.ArrayList;
import java.util.List;

/**
 * What the CRD cannot say, checked on both sides after {@link CrdRules} (the CRD's schema and CEL rules, the one
 * definition of everything else): the manifest's apiVersion and kind, an object name Kubernetes accepts (the trainer
 * names its checkpoint folder after it), durations that are more than zero, a data path, MLP layers of at least one
 * unit. The trainer runs these before it touches data or a checkpoint; the operator's JobValidator runs them too and
 * reports a problem as a condition. Each problem starts with the field's path and a colon, as the apiserver's causes
 * do.
 */
public final class SpecValidator {
    /** What Kubernetes accepts as an object name (a DNS-1123 subdomain): no '/', no '..', lower case. */
    static final java.util.regex.Pattern DNS_1123_SUBDOMAIN =
            java.util.regex.Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*");

    private SpecValidator() {}

    public static List<String> validate(TrainingJobManifest m) {
        List<String> p = new ArrayList<>();
        if (!TrainingJobManifest.API_VERSION.equals(m.apiVersion)) {
            p.add("apiVersion: expected " + TrainingJobManifest.API_VERSION + ", got " + m.apiVersion);
        }
        if (!TrainingJobManifest.KIND.equals(m.kind)) {
            p.add("kind: expected " + TrainingJobManifest.KIND + ", got " + m.kind);
        }
        String name = m.metadata == null ? null : m.metadata.name;
        if (name != null && (name.length() > 253 || !DNS_1123_SUBDOMAIN.matcher(name).matches())) {
            // The trainer names its checkpoint folder after the job: a name like ../x would write outside it.
            p.add("metadata.name: '" + name + "' is not a Kubernetes object name: lower-case letters, digits, '-' and"
                    + " '.', starting and ending with a letter or digit, at most 253 characters");
        }
        if (m.spec == null) {
            p.add("spec: missing");
            return p;
        }
        validateSpec(m.spec, p);
        return p;
    }

    /**
     * Every rule for a spec the operator reads from the cluster: the CRD's, as this version defines them, then the
     * checks beyond them. The apiserver already ran the installed CRD's rules, but Helm never upgrades a CRD, so an
     * older one may be installed: a job it let through is still refused, with a condition, not run.
     */
    public static List<String> validateSpecAgainstCrd(TrainingJobSpec s) {
        ObjectNode manifest = ManifestReader.yaml().createObjectNode();
        manifest.set("spec", ManifestReader.yaml().valueToTree(s));
        List<String> p = new ArrayList<>(CrdRules.trainingJob().check(manifest));
        validateSpec(s, p);
        return p;
    }

    /** The spec's checks beyond the CRD's. */
    public static void validateSpec(TrainingJobSpec s, List<String> p) {
        if (s.model != null && s.model.hiddenLayers != null && s.model.hiddenLayers.stream().anyMatch(h -> h == null || h < 1)) {
            p.add("spec.model.hiddenLayers: every layer needs at least 1 unit");
        }
        DataSpec d = s.data;
        if (d == null || d.path == null || d.path.isBlank()) {
            p.add("spec.data.path: missing");
        }
        if (s.training == null) {
            p.add("spec.training: missing");
        } else {
            nonZero("spec.training.maxDuration", s.training.maxDuration, p);
        }
        if (s.checkpoint != null) nonZero("spec.checkpoint.interval", s.checkpoint.interval, p);
        if (s.stall != null) nonZero("spec.stall.timeout", s.stall.timeout, p);
    }

    /** The CRD's pattern already refuses what is not a duration; a zero one passes it and means nothing here. */
    private static void nonZero(String field, String value, List<String> p) {
        if (value == null) return;
        try {
            if (Durations.parse(value).isZero()) p.add(field + ": must be more than 0");
        } catch (IllegalArgumentException e) {
            p.add(field + ": " + e.getMessage());
        }
    }
}
