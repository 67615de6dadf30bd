package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TrainerJar;
import io.fabric8.kubernetes.api.model.Pod;
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
 * The operator with the real trainer: the stand-in kubelet runs the operator's default image as
 * {@code java -jar goodput-trainer.jar} on Fashion-MNIST slices (/usr/share/datasets/fashion-mnist).
 */
@ExtendWith(RealApiServer.class)
class TrainerPodLifecycleTest {
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        var trainer = TrainerJar.entrypoint();
        ns = api.createNamespace(client, "trainer");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("trainer-node").gpus(1).workDir(work)
                .image(OperatorSettings.DEFAULT_IMAGE, trainer).start();
        operator = new InProcessOperator(client, ns, OperatorSettings.defaults());
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static TrainingJob job(KubernetesClient client, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    static String manifest(String name, int trainLimit, int epochs) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: %d, testLimit: 512}
                  training: {epochs: %d, globalBatchSize: 64, batchSize: 64}
                  checkpoint: {interval: 1s}
                """.formatted(name, trainLimit, epochs);
    }

    /** Waits for a phase; a finished job in another phase fails at once, showing its status and its pods' ends. */
    static TrainingJob awaitPhase(KubernetesClient client, String name, String phase, Duration timeout) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            TrainingJob j = job(client, name);
            String now = j.getStatus() == null ? null : j.getStatus().phase;
            if (!phase.equals(now) && ("Succeeded".equals(now) || "Failed".equals(now))) {
                // Not an AssertionError: Awaitility stops at once instead of waiting out the timeout.
                throw new IllegalStateException("job " + name + " ended " + now + ", not " + phase + "\n" + describe(client, j));
            }
            assertThat(now).as("phase of %s%n%s", name, describe(client, j)).isEqualTo(phase);
        });
        return job(client, name);
    }

    static String describe(KubernetesClient client, TrainingJob j) {
        StringBuilder sb = new StringBuilder("status: ").append(Serialization.asYaml(j.getStatus()));
        client.pods().inNamespace(ns).withLabel(Labels.JOB, j.getMetadata().getName()).list().getItems().forEach(p ->
                sb.append("pod ").append(p.getMetadata().getName()).append(": ").append(Serialization.asYaml(p.getStatus())));
        kubelet.podDir(ns, j.getMetadata().getName() + "-1").map(d -> d.resolve("trainer.log")).filter(Files::exists)
                .ifPresent(log -> {
                    try {
                        String text = Files.readString(log);
                        sb.append("trainer.log (attempt 1, tail):\n").append(text.substring(Math.max(0, text.length() - 3000)));
                    } catch (java.io.IOException e) {
                        sb.append(e);
                    }
                });
        return sb.toString();
    }

    static JobCondition condition(TrainingJob job, String type) {
        return job.getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElseThrow();
    }

    static TrainerReport report(Pod pod) {
        String message = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage();
        return Serialization.unmarshal(message, TrainerReport.class);
    }

    @Test
    void runsTheRealTrainerToSucceededWithTheFinalMetricInStatus(TestApiServer api, KubernetesClient client) {
        client.resources(TrainingJob.class).inNamespace(ns)
                .resource(Serialization.unmarshal(manifest("tiny", 2048, 2), TrainingJob.class)).create();
        TrainingJob j = awaitPhase(client, "tiny", "Succeeded", Duration.ofSeconds(120));
        assertThat(j.getStatus().attempts).isEqualTo(1);
        assertThat(j.getStatus().progress.step).isEqualTo(64); // 2048 / 64 x 2 epochs
        assertThat(j.getStatus().progress.metric).isBetween(0.3, 1.0);
        assertThat(j.getStatus().lastCheckpoint.step).isEqualTo(64);
        assertThat(j.getStatus().tunedBatch.micro).isEqualTo(64);
        assertThat(j.getStatus().startTime).isNotNull();
        assertThat(j.getStatus().completionTime).isNotNull();
        assertThat(condition(j, "Complete").status).isEqualTo("True");
        assertThat(condition(j, "Complete").message).isEqualTo("budget spent");

        TestApiServer.Result get = api.kubectl("get", "tj", "-n", ns, "tiny", "--no-headers");
        assertThat(get.output().split("\\s+")).startsWith("tiny", "Succeeded", "64", "2");
    }

    @Test
    void anEvictedPodIsReplacedByOneThatResumesFromItsCheckpoint(KubernetesClient client) throws Exception {
        TrainingJob created = client.resources(TrainingJob.class).inNamespace(ns)
                .resource(Serialization.unmarshal(manifest("evicted", 8192, 3), TrainingJob.class)).create();
        Path latest = kubelet.claimDir(ns, "evicted-checkpoints").resolve(created.getMetadata().getUid()).resolve("latest");
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100))
                .untilAsserted(() -> assertThat(latest).as(describe(client, job(client, "evicted"))).exists());
        assertThat(job(client, "evicted").getStatus().phase).isEqualTo("Running");

        assertThat(kubelet.evict(ns, "evicted-1")).isTrue();
        TrainingJob j = awaitPhase(client, "evicted", "Succeeded", Duration.ofSeconds(180));
        assertThat(j.getStatus().attempts).isEqualTo(2);
        assertThat(j.getStatus().preemptions).isEqualTo(1);
        assertThat(j.getStatus().failures).isNull();
        assertThat(j.getStatus().progress.step).isEqualTo(384); // 8192 / 64 x 3 epochs, all of them
        Pod second = client.pods().inNamespace(ns).withName("evicted-2").get();
        assertThat(second.getSpec().getContainers().get(0).getEnv())
                .anySatisfy(e -> assertThat(e.getName() + "=" + e.getValue()).isEqualTo("GOODPUT_ATTEMPT=2"));
        TrainerReport secondReport = report(second);
        assertThat(secondReport.resumedFromStep).as("attempt 2 resumed from attempt 1's checkpoint").isNotNull()
                .isGreaterThan(0L).isLessThan(384L);
    }
}
