package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.operator.harness.ApiServerTestResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The Quarkus app as built (QOSDK registration, CDI wiring of the reconciler and its settings, startup CRD check)
 * reconciles a TrainingJob on the real test apiserver. No kubelet here: the pod is created and stays Pending.
 */
@QuarkusTest
@QuarkusTestResource(value = ApiServerTestResource.class, restrictToAnnotatedClass = true)
class OperatorAppTest {
    @Inject
    KubernetesClient client;

    @ConfigProperty(name = ApiServerTestResource.NAMESPACE_PROPERTY)
    String ns;

    @Test
    void theAppReconcilesATrainingJob() {
        client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal("""
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: via-quarkus
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                """, TrainingJob.class)).create();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            TrainingJob j = client.resources(TrainingJob.class).inNamespace(ns).withName("via-quarkus").get();
            assertThat(j.getStatus()).isNotNull();
            assertThat(j.getStatus().attempts).isEqualTo(1);
            assertThat(j.getStatus().phase).isEqualTo("Pending");
            assertThat(client.pods().inNamespace(ns).withName("via-quarkus-1").get()).isNotNull();
            assertThat(client.configMaps().inNamespace(ns).withName("via-quarkus-config").get()).isNotNull();
        });
    }
}
