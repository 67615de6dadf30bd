package dev.goodput.operator.validate;

import dev.goodput.api.SpecValidator;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.util.ArrayList;
import java.util.List;

/**
 * Validate: what the apiserver's schema and CEL rules cannot check. The shared {@link SpecValidator} (the same checks
 * the trainer runs, so a job the trainer would refuse never gets a pod) and references to other objects: an
 * existing checkpoint or data claim. Problems become a condition, never an exception, so a bad job does not make the
 * operator crash-loop.
 */
public class JobValidator {
    public record Result(String reason, List<String> problems) {
        public boolean valid() {
            return problems.isEmpty();
        }
    }

    public Result validate(TrainingJob job, KubernetesClient client) {
        List<String> problems = new ArrayList<>();
        SpecValidator.validateSpec(job.getSpec(), problems);
        if (!problems.isEmpty()) {
            return new Result("InvalidSpec", problems);
        }
        String ns = job.getMetadata().getNamespace();
        var spec = job.getSpec();
        if (spec.checkpoint != null && spec.checkpoint.claimName != null
                && client.persistentVolumeClaims().inNamespace(ns).withName(spec.checkpoint.claimName).get() == null) {
            problems.add("spec.checkpoint.claimName: PersistentVolumeClaim \"" + spec.checkpoint.claimName
                    + "\" not found in namespace " + ns);
        }
        if (spec.data != null && spec.data.claimName != null
                && client.persistentVolumeClaims().inNamespace(ns).withName(spec.data.claimName).get() == null) {
            problems.add("spec.data.claimName: PersistentVolumeClaim \"" + spec.data.claimName + "\" not found in namespace " + ns);
        }
        return new Result(problems.isEmpty() ? "Accepted" : "ClaimNotFound", problems);
    }
}
