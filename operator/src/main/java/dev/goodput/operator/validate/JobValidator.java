package dev.goodput.operator.validate;

import dev.goodput.api.SpecValidator;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Validate: the CRD's rules as this version defines them (the installed CRD may be older: Helm never upgrades one),
 * what those rules cannot check ({@link SpecValidator}: the same checks the trainer runs, so a job the trainer would
 * refuse never gets a pod), and references to other objects: an existing checkpoint or data claim. Problems become a condition, never an exception, so a bad job does not make the
 * operator crash-loop.
 *
 * <p>The claims are looked up (two uncached GETs) only when the job's generation changes, not on every reconcile: once
 * a generation's claims were found they are not asked for again; a job whose claim is missing is checked again each
 * time it is reconciled (the reconciler comes back for it), so creating the claim lets it start.
 */
public class JobValidator {
    /** The generation whose claims were last found, per job. */
    private final Map<ResourceID, Long> claimsFound = new ConcurrentHashMap<>();

    public record Result(String reason, List<String> problems) {
        public boolean valid() {
            return problems.isEmpty();
        }
    }

    public Result validate(TrainingJob job, KubernetesClient client) {
        List<String> problems = new ArrayList<>(SpecValidator.validateSpecAgainstCrd(job.getSpec()));
        if (!problems.isEmpty()) {
            return new Result("InvalidSpec", problems);
        }
        ResourceID id = ResourceID.fromResource(job);
        Long generation = job.getMetadata().getGeneration();
        if (generation != null && generation.equals(claimsFound.get(id))) {
            return new Result("Accepted", problems);
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
        if (problems.isEmpty() && generation != null) {
            claimsFound.put(id, generation);
        } else {
            claimsFound.remove(id);
        }
        return new Result(problems.isEmpty() ? "Accepted" : "ClaimNotFound", problems);
    }

    /** The job is gone. */
    public void forget(ResourceID job) {
        claimsFound.remove(job);
    }
}
