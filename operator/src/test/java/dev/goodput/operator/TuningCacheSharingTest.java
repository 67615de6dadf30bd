package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.TunedBatch;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TrainerJar;
import dev.goodput.operator.reconcile.JobResources;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shared tuning cache, with the real trainer under the stand-in kubelet: a job that tunes its micro-batch
 * ({@code batchSize: auto}, a memory budget) has the result shared in the namespace's ConfigMap
 * {@code goodput-tuning-cache}; a second job with the same model, input, precision, device and budget finds it in its
 * mounted folder and trains without probing.
 */
@ExtendWith(RealApiServer.class)
class TuningCacheSharingTest {
    static final OperatorSettings SETTINGS = OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1));
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        ns = api.createNamespace(client, "tuning");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("tuning-node").workDir(work)
                .image(OperatorSettings.DEFAULT_IMAGE, TrainerJar.entrypoint()).start();
        operator = new InProcessOperator(client, ns, SETTINGS);
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static String manifest(String name) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model: {architecture: cnn, width: 8}
                  data: {trainLimit: 640, testLimit: 256}
                  training: {maxSteps: 4, globalBatchSize: 64, batchSize: auto, memoryBudget: 3Gi}
                """.formatted(name);
    }

    static TrainingJob awaitSucceeded(KubernetesClient client, String name) {
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            TrainingJob j = client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
            String phase = j.getStatus() == null || j.getStatus().phase == null ? null : j.getStatus().phase.name();
            if ("Failed".equals(phase)) {
                throw new IllegalStateException("job " + name + " failed: " + Serialization.asYaml(j.getStatus()) + log(name));
            }
            assertThat(phase).as("phase of %s", name).isEqualTo("Succeeded");
        });
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    static String log(String job) {
        return kubelet.podDir(ns, job + "-1").map(d -> d.resolve("trainer.log")).filter(Files::exists).map(p -> {
            try {
                return "\ntrainer.log:\n" + Files.readString(p);
            } catch (java.io.IOException e) {
                return e.toString();
            }
        }).orElse("");
    }

    @Test
    void aTunedBatchIsSharedAndTheNextJobWithTheSameKeyUsesItWithoutProbing(KubernetesClient client) throws Exception {
        assertThat(client.configMaps().inNamespace(ns).withName(JobResources.TUNING_CACHE).get())
                .as("no cache before the first tuning (the pods' volume is optional)").isNull();
        client.resources(TrainingJob.class).inNamespace(ns)
                .resource(Serialization.unmarshal(manifest("tune-a"), TrainingJob.class)).create();
        TrainingJob a = awaitSucceeded(client, "tune-a");
        TunedBatch tuned = a.getStatus().tunedBatch;
        assertThat(tuned.source).isEqualTo("tuned");
        assertThat(tuned.key).isEqualTo("cnn-w8.1x28x28.fp32.adamw-l1x4.cpu." + (3L << 30));
        assertThat(tuned.micro).isPositive();
        assertThat(Files.readString(kubelet.podDir(ns, "tune-a-1").orElseThrow().resolve("trainer.log")))
                .contains("tuning: largest fit");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            ConfigMap cm = client.configMaps().inNamespace(ns).withName(JobResources.TUNING_CACHE).get();
            assertThat(cm).isNotNull();
            assertThat(cm.getData()).containsEntry(tuned.key, String.valueOf(tuned.micro));
        });
        ConfigMap cm = client.configMaps().inNamespace(ns).withName(JobResources.TUNING_CACHE).get();
        assertThat(cm.getMetadata().getLabels()).containsEntry(Labels.MANAGED_BY, "goodput");
        assertThat(cm.getMetadata().getOwnerReferences()).as("outlives the jobs").isNullOrEmpty();
        assertThat(cm.getMetadata().getManagedFields()).anySatisfy(f -> {
            assertThat(f.getOperation()).isEqualTo("Apply");
            assertThat(f.getManager()).startsWith(JobResources.TUNING_CACHE);
        });

        client.resources(TrainingJob.class).inNamespace(ns)
                .resource(Serialization.unmarshal(manifest("tune-b"), TrainingJob.class)).create();
        TrainingJob b = awaitSucceeded(client, "tune-b");
        assertThat(b.getStatus().tunedBatch.source).as(log("tune-b")).isEqualTo("cache");
        assertThat(b.getStatus().tunedBatch.micro).isEqualTo(tuned.micro);
        assertThat(Files.readString(kubelet.podDir(ns, "tune-b-1").orElseThrow().resolve("trainer.log")))
                .contains("from the tuning cache (key " + tuned.key + "), no probes").doesNotContain("tuning: largest fit");

        // The cache is nobody's dependent: deleting the job that filled it leaves it.
        client.resources(TrainingJob.class).inNamespace(ns).withName("tune-a").delete();
        assertThat(client.configMaps().inNamespace(ns).withName(JobResources.TUNING_CACHE).get().getData())
                .containsEntry(tuned.key, String.valueOf(tuned.micro));
    }
}
