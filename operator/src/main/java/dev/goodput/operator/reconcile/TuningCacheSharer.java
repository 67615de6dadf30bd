package dev.goodput.operator.reconcile;

import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.TrainingJob;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * A micro-batch the trainer tuned ({@code status.tunedBatch.source} "tuned", with its key) goes into the namespace's
 * tuning cache ConfigMap {@link JobResources#TUNING_CACHE}, which every trainer pod mounts: the next job with the same
 * key starts without probing (source "cache"). Once per key and process; server-side apply makes a repeat (after a
 * restart) harmless. A failure only costs later jobs a tuning run: logged, tried again next reconcile.
 */
public class TuningCacheSharer {
    private static final Logger LOG = Logger.getLogger(TuningCacheSharer.class);
    /** "namespace/key" of the tuning results this process has shared. */
    private final Set<String> shared = ConcurrentHashMap.newKeySet();

    public void share(KubernetesClient client, TrainingJob job, TrainingJobStatus status) {
        var t = status.tunedBatch;
        if (t == null || !"tuned".equals(t.source) || t.key == null || t.key.isBlank() || t.micro <= 0) {
            return;
        }
        String ns = job.getMetadata().getNamespace();
        if (!shared.add(ns + "/" + t.key)) {
            return;
        }
        try {
            client.resource(JobResources.tuningCacheEntry(ns, t.key, t.micro))
                    .fieldManager(JobResources.tuningCacheFieldManager(t.key)).forceConflicts().serverSideApply();
            LOG.infof("%s/%s: shared its tuned micro-batch %d as %s in ConfigMap %s", ns, job.getMetadata().getName(),
                    t.micro, t.key, JobResources.TUNING_CACHE);
        } catch (KubernetesClientException e) {
            shared.remove(ns + "/" + t.key);
            LOG.warnf("%s/%s: could not share its tuned micro-batch in ConfigMap %s: %s", ns,
                    job.getMetadata().getName(), JobResources.TUNING_CACHE, e.getMessage());
        }
    }
}
