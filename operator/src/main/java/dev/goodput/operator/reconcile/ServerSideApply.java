package dev.goodput.operator.reconcile;

import dev.goodput.operator.Labels;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.KubernetesClient;

/**
 * How the operator writes the objects of {@link JobResources}: server-side apply as {@link Labels#FIELD_MANAGER},
 * taking over conflicting fields; the objects being pure functions of the job, a repeat changes nothing.
 */
final class ServerSideApply {
    private ServerSideApply() {}

    static <T extends HasMetadata> T apply(KubernetesClient client, T desired) {
        return client.resource(desired).fieldManager(Labels.FIELD_MANAGER).forceConflicts().serverSideApply();
    }
}
