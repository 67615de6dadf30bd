package dev.goodput.operator.reconcile;

import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The objects a job's trainer pods need besides themselves ({@link JobResources}): the checkpoint claim the operator
 * creates when the spec names none, applied once per generation by this process (it remembers which) and again before
 * every new pod unless this very reconcile applied it; and the ConfigMap with {@code job.yaml}, applied only for a new
 * attempt, so that it always holds the spec the current pod runs (an edit between attempts reaches the next pod, not
 * the ConfigMap of a running one); for a job with several workers, their headless Service and NetworkPolicy, applied
 * with the ConfigMap. A job edited down to one worker keeps them until it is deleted: they name only its own pods.
 */
public class JobDependents {
    private final OperatorSettings settings;
    /** Generation of each job whose dependents this process has applied. */
    private final Map<ResourceID, Long> applied = new ConcurrentHashMap<>();

    public JobDependents(OperatorSettings settings) {
        this.settings = settings;
    }

    /** Applies the claim unless this process already has for this generation; returns whether it applied it now. */
    public boolean applyOncePerGeneration(KubernetesClient client, TrainingJob job, long generation) {
        if (Objects.equals(applied.get(ResourceID.fromResource(job)), generation)) {
            return false;
        }
        applyClaim(client, job, generation);
        return true;
    }

    /**
     * Before a new attempt's pods: its ConfigMap, the claim unless {@code claimApplied} by this reconcile, and for
     * several workers the Service and NetworkPolicy of their rendezvous (before the pods, which are never reachable
     * without the policy).
     */
    public void applyForAttempt(KubernetesClient client, TrainingJob job, long generation, boolean claimApplied) {
        ServerSideApply.apply(client, JobResources.configMap(job));
        var policy = JobResources.networkPolicy(job);
        if (policy != null) {
            ServerSideApply.apply(client, policy);
            ServerSideApply.apply(client, JobResources.service(job));
        }
        if (!claimApplied) {
            applyClaim(client, job, generation);
        }
    }

    private void applyClaim(KubernetesClient client, TrainingJob job, long generation) {
        var claim = JobResources.checkpointClaimToCreate(job, settings);
        if (claim != null) {
            ServerSideApply.apply(client, claim);
        }
        applied.put(ResourceID.fromResource(job), generation);
    }

    /** The job is gone: nothing to remember about it. */
    public void forget(ResourceID job) {
        applied.remove(job);
    }
}
