package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.status.JobCondition;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reconciler against the real apiserver: the objects it applies, and what it does with attempts that cannot run
 * or that fail. The stand-in kubelet knows no entrypoint for the operator's default image here (so its pods wait in
 * ErrImagePull) and runs {@value #CRASHING_IMAGE} as a process that exits 1.
 */
@ExtendWith(RealApiServer.class)
class TrainingJobReconcileTest {
    static final String CRASHING_IMAGE = "example.test/crashes:1";
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        ns = api.createNamespace(client, "reconcile");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("reconcile-node").gpus(4)
                .nodeLabel("nvidia.com/gpu.product", "H100").workDir(work)
                .image(CRASHING_IMAGE, List.of("sh", "-c", "echo 'CUDA error: out of memory' >&2; exit 1", "trainer"))
                .start();
        operator = new InProcessOperator(client, ns, OperatorSettings.defaults().withFailureBackoff(Duration.ofSeconds(1)));
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static TrainingJob create(KubernetesClient client, String yaml) {
        return client.resources(TrainingJob.class).inNamespace(ns)
                .resource(Serialization.unmarshal(yaml, TrainingJob.class)).create();
    }

    static TrainingJob job(KubernetesClient client, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    static JobCondition condition(TrainingJob job, String type) {
        return job.getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElse(null);
    }

    static void assertOwnedBy(HasMetadata o, TrainingJob job) {
        assertThat(o.getMetadata().getOwnerReferences()).singleElement().satisfies(r -> {
            assertThat(r.getUid()).isEqualTo(job.getMetadata().getUid());
            assertThat(r.getKind()).isEqualTo("TrainingJob");
            assertThat(r.getController()).isTrue();
        });
    }

    @Test
    void appliesTheConfigMapTheClaimAndAHardenedGpuPod(KubernetesClient client) throws Exception {
        TrainingJob job = create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: objects
                spec:
                  model: {architecture: cnn, width: 16}
                  training: {epochs: 1, batchSize: 32}
                  resources:
                    gpus: 1
                    cpu: "2"
                    memory: 3Gi
                    nodeSelector: {nvidia.com/gpu.product: H100}
                """);
        await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(ns).withName("objects-1").get() != null);

        var cm = client.configMaps().inNamespace(ns).withName("objects-config").get();
        assertOwnedBy(cm, job);
        TrainingJobManifest manifest = ManifestReader.parse(cm.getData().get("job.yaml"), "objects-config");
        assertThat(manifest.metadata.uid).isEqualTo(job.getMetadata().getUid());
        assertThat(manifest.spec.model.width).isEqualTo(16);
        assertThat(manifest.spec.training.batchSize).isEqualTo("32");
        assertOwnedBy(client.persistentVolumeClaims().inNamespace(ns).withName("objects-checkpoints").get(), job);

        Pod pod = client.pods().inNamespace(ns).withName("objects-1").get();
        assertOwnedBy(pod, job);
        assertThat(pod.getMetadata().getLabels()).containsEntry(Labels.JOB, "objects").containsEntry(Labels.ATTEMPT, "1");
        assertThat(pod.getMetadata().getManagedFields()).anySatisfy(f -> {
            assertThat(f.getManager()).isEqualTo(Labels.FIELD_MANAGER);
            assertThat(f.getOperation()).isEqualTo("Apply");
        });
        var spec = pod.getSpec();
        assertThat(spec.getRestartPolicy()).isEqualTo("Never");
        assertThat(spec.getTerminationGracePeriodSeconds()).isEqualTo(30L);
        assertThat(spec.getNodeSelector()).containsEntry("nvidia.com/gpu.product", "H100");
        assertThat(spec.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(spec.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        Container c = spec.getContainers().get(0);
        assertThat(c.getImage()).isEqualTo(OperatorSettings.DEFAULT_IMAGE);
        assertThat(c.getArgs()).containsExactly("run", "/etc/goodput/job.yaml");
        assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
        assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
        assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(c.getResources().getLimits().get("nvidia.com/gpu").toString()).isEqualTo("1");
        assertThat(c.getResources().getRequests().get("cpu").toString()).isEqualTo("2");
        assertThat(c.getTerminationMessagePath()).isEqualTo("/dev/termination-log");
        Map<String, String> env = c.getEnv().stream().collect(Collectors.toMap(EnvVar::getName, EnvVar::getValue));
        assertThat(env).containsEntry("GOODPUT_CHECKPOINT_DIR", "/checkpoints").containsEntry("GOODPUT_METRICS_PORT", "9400")
                .containsEntry("GOODPUT_JOB_UID", job.getMetadata().getUid()).containsEntry("GOODPUT_ATTEMPT", "1");
        assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath())
                .contains("/etc/goodput", "/checkpoints", "/tmp");

        // The stand-in has no entrypoint for the default image: the pod waits, and status says why.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "objects");
            assertThat(j.getStatus().phase).isEqualTo("Pending");
            assertThat(j.getStatus().attempts).isEqualTo(1);
            assertThat(condition(j, "Valid").status).isEqualTo("True");
            assertThat(condition(j, "Valid").observedGeneration).isEqualTo(1L);
            assertThat(condition(j, "Running").status).isEqualTo("False");
            assertThat(condition(j, "Running").reason).isEqualTo("ErrImagePull");
            assertThat(condition(j, "Running").message).contains(OperatorSettings.DEFAULT_IMAGE);
        });
        client.pods().inNamespace(ns).withName("objects-1").delete();
    }

    @Test
    void anUnknownClaimIsAConditionNotACrash(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: no-claim
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  checkpoint: {claimName: does-not-exist}
                """);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "no-claim");
            assertThat(j.getStatus()).isNotNull();
            JobCondition valid = condition(j, "Valid");
            assertThat(valid.status).isEqualTo("False");
            assertThat(valid.reason).isEqualTo("ClaimNotFound");
            assertThat(valid.message).contains("spec.checkpoint.claimName").contains("does-not-exist");
            assertThat(j.getStatus().phase).isEqualTo("Pending");
        });
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "no-claim").list().getItems()).isEmpty();
    }

    @Test
    void threeFailuresWithBackoffLimitTwoFailTheJob(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: crashes
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  image: %s
                  backoffLimit: 2
                """.formatted(CRASHING_IMAGE));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(job(client, "crashes").getStatus().phase).isEqualTo("Failed"));
        TrainingJob j = job(client, "crashes");
        assertThat(j.getStatus().attempts).isEqualTo(3);
        assertThat(j.getStatus().failures).isEqualTo(3);
        assertThat(j.getStatus().preemptions).isNull();
        assertThat(j.getStatus().completionTime).isNotNull();
        JobCondition failed = condition(j, "Failed");
        assertThat(failed.status).isEqualTo("True");
        assertThat(failed.reason).isEqualTo("BackoffLimitExceeded");
        // FallbackToLogsOnError: without a termination message the log's tail is the reason.
        assertThat(failed.message).contains("CUDA error: out of memory").contains("3 failures, backoffLimit 2");
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "crashes").list().getItems()).hasSize(3);
    }
}
