package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.JobPhase;
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

        // No per-job Service: the PodMonitor scrapes the pods themselves, and nothing else would read one.
        assertThat(client.services().inNamespace(ns).list().getItems()).isEmpty();

        Pod pod = client.pods().inNamespace(ns).withName("objects-1").get();
        assertOwnedBy(pod, job);
        assertThat(pod.getMetadata().getFinalizers()).containsExactly(Labels.POD_FINALIZER);
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
        assertThat(spec.getSecurityContext().getRunAsUser()).as("the trainer images' USER").isEqualTo(65532L);
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
                .containsEntry("GOODPUT_JOB_UID", job.getMetadata().getUid()).containsEntry("GOODPUT_ATTEMPT", "1")
                .containsEntry("GOODPUT_TUNING_CACHE", "/etc/goodput-tuning-cache")
                .as("the trainer plans its SIGTERM save within the pod's grace period")
                .containsEntry("GOODPUT_GRACE_PERIOD_SECONDS", String.valueOf(spec.getTerminationGracePeriodSeconds()));
        assertThat(c.getVolumeMounts()).extracting(m -> m.getMountPath())
                .contains("/etc/goodput", "/checkpoints", "/tmp", "/etc/goodput-tuning-cache");
        assertThat(c.getVolumeMounts()).filteredOn(m -> m.getMountPath().equals("/etc/goodput-tuning-cache"))
                .singleElement().satisfies(m -> assertThat(m.getReadOnly()).isTrue());
        assertThat(spec.getVolumes()).filteredOn(v -> v.getConfigMap() != null
                && "goodput-tuning-cache".equals(v.getConfigMap().getName()))
                .singleElement().satisfies(v -> assertThat(v.getConfigMap().getOptional()).isTrue());

        // The stand-in has no entrypoint for the default image: the pod waits, and status says why.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "objects");
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Pending);
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
            assertThat(valid).as("Valid condition").isNotNull();
            assertThat(valid.status).isEqualTo("False");
            assertThat(valid.reason).isEqualTo("ClaimNotFound");
            assertThat(valid.message).contains("spec.checkpoint.claimName").contains("does-not-exist");
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Pending);
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
                assertThat(job(client, "crashes").getStatus().phase).isEqualTo(JobPhase.Failed));
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
        // Every attempt's outcome is recorded, so every pod's tracking finalizer is released.
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "crashes").list().getItems()).hasSize(3)
                        .allSatisfy(p -> assertThat(p.getMetadata().getFinalizers()).isEmpty()));
        assertThat(events(client, "crashes")).extracting(e -> e.getType() + " " + e.getReason() + ": " + e.getMessage())
                .containsExactlyInAnyOrder(
                        "Warning AttemptFailed: attempt 1 failed (PodFailed): CUDA error: out of memory; attempt 2 follows",
                        "Warning AttemptFailed: attempt 2 failed (PodFailed): CUDA error: out of memory; attempt 3 follows",
                        "Warning BackoffLimitExceeded: attempt 3 failed; the job failed: CUDA error: out of memory"
                                + " (3 failures, backoffLimit 2)");
    }

    static List<io.fabric8.kubernetes.api.model.Event> events(KubernetesClient client, String job) {
        return client.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> job.equals(e.getInvolvedObject().getName())).toList();
    }

    @Test
    void aJobManagedByAnotherControllerIsLeftAlone(KubernetesClient client) throws Exception {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: elsewhere
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  managedBy: kueue.x-k8s.io/multikueue
                """);
        // A job of ours created after it is reconciled: by then the operator has seen (and skipped) the other one.
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: ours
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  managedBy: goodput.dev/operator
                """);
        await().atMost(Duration.ofSeconds(30)).until(() -> job(client, "ours").getStatus() != null
                && job(client, "ours").getStatus().attempts != null);
        Thread.sleep(500);
        TrainingJob other = job(client, "elsewhere");
        assertThat(other.getStatus()).as("no status written").satisfiesAnyOf(
                s -> assertThat(s).isNull(), s -> assertThat(s.phase).isNull());
        assertThat(other.getMetadata().getFinalizers()).as("no finalizer added").isEmpty();
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "elsewhere").list().getItems()).isEmpty();
        assertThat(client.configMaps().inNamespace(ns).withName("elsewhere-config").get()).isNull();
        client.resources(TrainingJob.class).inNamespace(ns).withName("ours").delete();
    }

    @Test
    void aJobCreatedSuspendedStartsNoPodUntilResumed(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: queued
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  suspend: true
                """);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "queued");
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Suspended);
            assertThat(condition(j, "Suspended").status).isEqualTo("True");
            assertThat(condition(j, "Suspended").message).isEqualTo("suspended before its first attempt");
            assertThat(j.getStatus().attempts).isNull();
        });
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "queued").list().getItems()).isEmpty();

        client.resources(TrainingJob.class).inNamespace(ns).withName("queued")
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"spec\":{\"suspend\":false}}");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "queued");
            assertThat(j.getStatus().attempts).isEqualTo(1);
            assertThat(condition(j, "Suspended").status).isEqualTo("False");
            assertThat(condition(j, "Suspended").reason).isEqualTo("Resumed");
            assertThat(condition(j, "Suspended").observedGeneration).isEqualTo(2L);
            assertThat(client.pods().inNamespace(ns).withName("queued-1").get()).isNotNull();
        });
        assertThat(events(client, "queued")).extracting(e -> e.getReason()).containsExactlyInAnyOrder("Suspended", "Resumed");
        // Suspended again while its pod waits (ErrImagePull here): the pod goes, nothing is counted.
        client.resources(TrainingJob.class).inNamespace(ns).withName("queued")
                .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON_MERGE),
                        "{\"spec\":{\"suspend\":true}}");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            TrainingJob j = job(client, "queued");
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Suspended);
            assertThat(condition(j, "Suspended").reason).isEqualTo("Suspended");
            assertThat(client.pods().inNamespace(ns).withName("queued-1").get()).isNull();
            assertThat(j.getStatus().preemptions).isNull();
            assertThat(j.getStatus().failures).isNull();
        });
    }
}
