package dev.goodput.operator.reconcile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.operator.Labels;
import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.observe.WithoutManagedFields;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * Starts and stops trainer pods, and watches them: the informer whose cache the reconciler observes pods in. Starting
 * applies the attempt's pods ({@link JobResources#pod}, one per rank) and puts them in that cache at once; stopping deletes a pod
 * gracefully, noting why on it first.
 */
public class TrainerPods {
    private static final Logger LOG = Logger.getLogger(TrainerPods.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OperatorSettings settings;
    private InformerEventSource<Pod, TrainingJob> informer;

    public TrainerPods(OperatorSettings settings) {
        this.settings = settings;
    }

    /** The job's pods, labelled {@link Labels#JOB}; they map back to their job through the controller owner reference. */
    public InformerEventSource<Pod, TrainingJob> informer(EventSourceContext<TrainingJob> context) {
        informer = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, TrainingJob.class)
                .withName("trainer-pods").withLabelSelector(Labels.JOB).withItemStore(new WithoutManagedFields<>()).build(),
                context);
        return informer;
    }

    /**
     * Applies attempt {@code attempt}'s pods, one per rank (spec.resources.workers), all at once: a gang's ranks wait
     * for each other at the rendezvous, so none is held back for another. The same pods again when they exist
     * already. Returns them by rank.
     */
    public List<Pod> start(KubernetesClient client, TrainingJob job, int attempt) {
        List<Pod> started = new ArrayList<>();
        for (int rank = 0; rank < JobResources.workers(job.getSpec()); rank++) {
            Pod pod = ServerSideApply.apply(client, JobResources.pod(job, attempt, rank, settings));
            if (informer != null) {
                // Read our own write: the next reconcile sees the pod even before the informer does.
                informer.handleRecentResourceCreate(ResourceID.fromResource(pod), pod);
            }
            started.add(pod);
        }
        LOG.infof("%s/%s: attempt %d started (%s)", job.getMetadata().getNamespace(), job.getMetadata().getName(),
                attempt, started.size() == 1 ? "pod " + started.get(0).getMetadata().getName() : started.size() + " pods");
        return started;
    }

    /**
     * Deletes a pod gracefully (its own terminationGracePeriodSeconds, in which the trainer checkpoints), noting why on
     * it first (annotation {@link Labels#STOP_REASON}). Idempotent.
     */
    public static void stop(KubernetesClient client, Pod pod, String reason) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        try {
            Map<String, String> annotations = pod.getMetadata().getAnnotations();
            if (annotations == null || !reason.equals(annotations.get(Labels.STOP_REASON))) {
                client.pods().inNamespace(ns).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                        JSON.writeValueAsString(Map.of("metadata", Map.of("annotations", Map.of(Labels.STOP_REASON, reason)))));
            }
            if (pod.getMetadata().getDeletionTimestamp() == null) {
                client.pods().inNamespace(ns).withName(name).delete();
                LOG.infof("%s/%s: stopping pod (%s); the trainer checkpoints before it exits", ns, name, reason);
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
