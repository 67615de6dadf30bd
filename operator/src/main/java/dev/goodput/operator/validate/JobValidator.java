package dev.goodput.operator.validate;

import dev.goodput.api.SpecValidator;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.reconcile.JobResources;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
    private static final String NOT_FOUND = " not found in namespace ";
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
        int workers = JobResources.workers(spec);
        if (workers > 1) {
            problems.addAll(gangName(job.getMetadata().getName()));
        }
        if (spec.checkpoint != null && spec.checkpoint.claimName != null) {
            problems.addAll(claim(client, ns, "spec.checkpoint.claimName", spec.checkpoint.claimName,
                    workers > 1 ? Set.of("ReadWriteMany") : Set.of()));
        }
        if (spec.data != null && spec.data.claimName != null) {
            problems.addAll(claim(client, ns, "spec.data.claimName", spec.data.claimName,
                    workers > 1 ? Set.of("ReadOnlyMany", "ReadWriteMany") : Set.of()));
        }
        if (problems.isEmpty() && generation != null) {
            claimsFound.put(id, generation);
        } else {
            claimsFound.remove(id);
        }
        // A missing claim may yet be created; the rest needs an edit of the job or its claim.
        boolean missing = problems.stream().anyMatch(p -> p.endsWith(NOT_FOUND + ns));
        return new Result(problems.isEmpty() ? "Accepted" : missing ? "ClaimNotFound" : "InvalidSpec", problems);
    }

    /**
     * A claim the spec names: it must exist, and for a job with several workers, whose pods may run on several nodes
     * and all mount it, have one of {@code shared} access modes.
     */
    static List<String> claim(KubernetesClient client, String ns, String field, String name, Set<String> shared) {
        PersistentVolumeClaim claim = client.persistentVolumeClaims().inNamespace(ns).withName(name).get();
        if (claim == null) {
            return List.of(field + ": PersistentVolumeClaim \"" + name + "\"" + NOT_FOUND + ns);
        }
        List<String> modes = claim.getSpec() == null || claim.getSpec().getAccessModes() == null ? List.of()
                : claim.getSpec().getAccessModes();
        if (!shared.isEmpty() && modes.stream().noneMatch(shared::contains)) {
            return List.of(field + ": PersistentVolumeClaim \"" + name + "\" is " + String.join(", ", modes)
                    + ", but the pods of spec.resources.workers > 1 may run on several nodes and all mount it: it"
                    + " must be " + String.join(" or ", new java.util.TreeSet<>(shared)));
        }
        return List.of();
    }

    /** The longest job name with several workers: {@code <name>-<attempt>-<rank>} is each pod's hostname, a DNS label. */
    static final int MAX_GANG_NAME = 47;

    /**
     * A job with several workers names its headless Service ({@code <name>-workers}) and its pods' hostnames
     * ({@code <name>-<attempt>-<rank>}) after itself: both must be DNS labels (RFC 1035: a letter first, at most 63).
     */
    static List<String> gangName(String name) {
        if (name.length() > MAX_GANG_NAME || !name.matches("[a-z]([-a-z0-9]*[a-z0-9])?")) {
            return List.of("metadata.name: with spec.resources.workers > 1 the name must start with a letter, have only"
                    + " lower-case letters, digits and '-', and be at most " + MAX_GANG_NAME + " characters: it names"
                    + " the job's Service and its pods' hostnames (<name>-<attempt>-<rank>), which are DNS labels");
        }
        return List.of();
    }

    /** The job is gone. */
    public void forget(ResourceID job) {
        claimsFound.remove(job);
    }
}
