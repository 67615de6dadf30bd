package dev.goodput.operator.reconcile;

import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The objects a job's trainer pods need besides themselves: the ConfigMap with {@code job.yaml}, the checkpoint claim
 * the operator creates when the spec names none, the metrics Service ({@link JobResources}). They change only with the
 * spec, so they are applied once per generation by this process (it remembers which), and again before every new pod,
 * which mounts them, unless this very reconcile applied them.
 */
public class JobDependents {
    private final OperatorSettings settings;
    /** Generation of each job whose dependents this process has applied. */
    private final Map<ResourceID, Long> applied = new ConcurrentHashMap<>();

    public JobDependents(OperatorSettings settings) {
        this.settings = settings;
    }

    /** Applies them unless this process already has for this generation; returns whether it applied them now. */
    public boolean applyOncePerGeneration(KubernetesClient client, TrainingJob job, long generation) {
        if (Objects.equals(applied.get(ResourceID.fromResource(job)), generation)) {
            return false;
        }
        apply(client, job, generation);
        return true;
    }

    public void apply(KubernetesClient client, TrainingJob job, long generation) {
        ServerSideApply.apply(client, JobResources.configMap(job));
        var claim = JobResources.checkpointClaimToCreate(job, settings);
        if (claim != null) {
            ServerSideApply.apply(client, claim);
        }
        ServerSideApply.apply(client, JobResources.metricsService(job));
        applied.put(ResourceID.fromResource(job), generation);
    }

    /** The job is gone: nothing to remember about it. */
    public void forget(ResourceID job) {
        applied.remove(job);
    }
}
