package dev.goodput.operator.reconcile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import dev.goodput.operator.Labels;
import dev.goodput.operator.attempt.AttemptStateMachine.StatusView;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.util.Collection;
import java.util.HashSet;
import java.util.Set;

/**
 * The pod-tracking finalizer protocol. Every trainer pod carries {@link Labels#POD_FINALIZER} (put there by
 * {@link JobResources#pod}); it is removed only once status, as persisted (as a reconcile found it), records the
 * attempt's outcome. So the operator always reads a finished pod's exit code, termination message and
 * DisruptionTarget, whoever was faster, and an operator restart between recording and releasing only releases late.
 */
public class PodFinalizers {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final JobObserver observer;

    public PodFinalizers(JobObserver observer) {
        this.observer = observer;
    }

    /** Removes the finalizer of the ended pods whose outcome {@code recorded} (persisted status) holds; their uids. */
    public Set<String> release(KubernetesClient client, Collection<Pod> pods, StatusView recorded) {
        Set<String> released = new HashSet<>();
        for (Pod p : pods) {
            if (releasable(recorded, observe(p)) && remove(client, p)) {
                released.add(p.getMetadata().getUid());
            }
        }
        return released;
    }

    /** Whether, once {@code status} is written, some pod's finalizer can go (so the reconcile should come back soon). */
    public boolean pendingRelease(Collection<Pod> pods, StatusView status, Set<String> released) {
        return pods.stream().anyMatch(p -> !released.contains(p.getMetadata().getUid()) && releasable(status, observe(p)));
    }

    /** The job is being deleted and none of its pods runs any more: every finalizer goes. */
    public void releaseAll(KubernetesClient client, Collection<Pod> pods) {
        pods.stream().filter(PodFinalizers::tracked).forEach(p -> remove(client, p));
    }

    /** A pod's finalizer may go: it still has it, its attempt has ended, and {@code status} records how. */
    public static boolean releasable(StatusView status, AttemptObservation o) {
        return o.exists() && tracked(o.pod()) && status.recordsEndOf(o.attempt()) && o.ended();
    }

    static boolean tracked(Pod p) {
        return p.getMetadata().getFinalizers() != null && p.getMetadata().getFinalizers().contains(Labels.POD_FINALIZER);
    }

    /**
     * The JSON Patch that removes the finalizer at its index in the list, after testing it is still there: it never
     * removes someone else's finalizer if the list changed since the cache saw it.
     */
    static ArrayNode removal(Pod p) {
        String path = "/metadata/finalizers/" + p.getMetadata().getFinalizers().indexOf(Labels.POD_FINALIZER);
        ArrayNode patch = JSON.createArrayNode();
        patch.addObject().put("op", "test").put("path", path).put("value", Labels.POD_FINALIZER);
        patch.addObject().put("op", "remove").put("path", path);
        return patch;
    }

    private AttemptObservation observe(Pod p) {
        return observer.observe(p, JobObserver.attemptOf(p), null);
    }

    private static boolean remove(KubernetesClient client, Pod p) {
        try {
            client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
                    .patch(PatchContext.of(PatchType.JSON), removal(p).toString());
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404 || e.getCode() == 409 || e.getCode() == 422) {
                return false; // gone, or changed meanwhile: the next reconcile sees the new version
            }
            throw e;
        }
    }
}
