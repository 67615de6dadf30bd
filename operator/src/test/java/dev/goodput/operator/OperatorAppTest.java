package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.JobPhase;
import com.fasterxml.jackson.databind.JsonNode;
import dev.goodput.operator.harness.ApiServerTestResource;
import dev.goodput.operator.harness.PrometheusText;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The Quarkus app as built (QOSDK registration, CDI wiring of the reconciler and its settings, startup CRD check)
 * reconciles a TrainingJob on the real test apiserver and shows it on /q/metrics. No kubelet here: the pod is created
 * and stays Pending.
 */
@QuarkusTest
@QuarkusTestResource(value = ApiServerTestResource.class, restrictToAnnotatedClass = true)
class OperatorAppTest {
    @Inject
    KubernetesClient client;

    @ConfigProperty(name = ApiServerTestResource.NAMESPACE_PROPERTY)
    String ns;

    @TestHTTPResource("/q/metrics")
    URL metrics;

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
                  resources: {cpu: "1", memory: 1Gi}
                """, TrainingJob.class)).create();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            TrainingJob j = client.resources(TrainingJob.class).inNamespace(ns).withName("via-quarkus").get();
            assertThat(j.getStatus()).isNotNull();
            assertThat(j.getStatus().attempts).isEqualTo(1);
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Pending);
            assertThat(client.pods().inNamespace(ns).withName("via-quarkus-1").get()).isNotNull();
            assertThat(client.configMaps().inNamespace(ns).withName("via-quarkus-config").get()).isNotNull();
            // No GOODPUT_PRICING_FILE here: the job runs unpriced and says why.
            assertThat(j.getStatus().conditions).anySatisfy(c -> {
                assertThat(c.type).isEqualTo("Priced");
                assertThat(c.status).isEqualTo("False");
                assertThat(c.reason).isEqualTo("NoPriceTable");
            });
            assertThat(j.getStatus().attemptHistory).singleElement().satisfies(r -> assertThat(r.pricePerHour).isNull());
        });

        // The app's /q/metrics: the job's series (the OperatorMetrics bean on Quarkus' Prometheus registry) beside
        // JOSDK's own reconcile metrics, all parsed by prometheus_client.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(metrics.toURI()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode families = PrometheusText.parse(r.body());
            Map<String, Double> jobs = PrometheusText.samples(families, "goodput_trainingjob_");
            assertThat(jobs).containsEntry("goodput_trainingjob_info{capacity=on-demand, gpu_type=none, job=via-quarkus, "
                    + "model=mlp, namespace=" + ns + "}", 1.0)
                    .containsEntry("goodput_trainingjob_phase{job=via-quarkus, namespace=" + ns + ", phase=Pending}", 1.0)
                    .containsEntry("goodput_trainingjob_cost_dollars{job=via-quarkus, namespace=" + ns + "}", 0.0);
            assertThat(PrometheusText.samples(families, "operator_sdk_")).isNotEmpty();
        });
    }
}
