package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.AttemptOutcome;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.JobPhase;
import dev.goodput.operator.attempt.AttemptStateMachine;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Jobs with spec.resources.workers > 1 against the real apiserver and the stand-in kubelet: the gang of pods, its
 * Service and NetworkPolicy, how one pod's end ends the attempt for all, and a suspension of all of them. The stand-in runs {@value #RANK_IMAGE}
 * as a shell that plays a rank: it runs until SIGTERM, then exits 75 as the trainer does once it has checkpointed;
 * {@value #RANK_1_FAILS_IMAGE} is the same, except that rank 1 exits 1 after a second.
 */
@ExtendWith(RealApiServer.class)
class DataParallelGangTest {
    static final String RANK_IMAGE = "goodput.test/rank:1";
    static final String RANK_1_FAILS_IMAGE = "goodput.test/rank-1-fails:1";
    /** Rank 0 alone reports its checkpoint, as the trainer's leader does: the others wrote none. */
    static final String RUN_UNTIL_SIGTERM = "trap 'if [ \"$RANK\" = 0 ]; then printf %s \"$CHECKPOINTED\""
            + " > \"$GOODPUT_TERMINATION_LOG\"; fi; exit 75' TERM; while :; do sleep 0.1; done";
    static final String CHECKPOINTED = "{\"phase\":\"Preempted\",\"resumedFromStep\":0,\"progress\":{\"step\":416},"
            + "\"lastCheckpoint\":{\"step\":416,\"path\":\"/checkpoints/step-416\",\"bytes\":1000},"
            + "\"message\":\"preempted: checkpoint saved at step 416\"}";
    static final String CLAIM = "shared-checkpoints";
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;
    /** Each pod as the stand-in last wrote its status: stopped pods go once their outcome is recorded. */
    static final Map<String, Pod> lastSeen = new ConcurrentHashMap<>();

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        ns = api.createNamespace(client, "gang");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("gang-node").workDir(work)
                .image(RANK_IMAGE, List.of("sh", "-c", "CHECKPOINTED='" + CHECKPOINTED + "'; " + RUN_UNTIL_SIGTERM, "trainer"))
                .image(RANK_1_FAILS_IMAGE, List.of("sh", "-c",
                        "if [ \"$RANK\" = 1 ]; then sleep 1; exit 1; fi; CHECKPOINTED='" + CHECKPOINTED + "'; "
                                + RUN_UNTIL_SIGTERM, "trainer"))
                .start();
        kubelet.onStatusWritten(p -> lastSeen.put(p.getMetadata().getName(), p));
        client.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder().withNewMetadata()
                .withName(CLAIM).endMetadata().withNewSpec().withAccessModes("ReadWriteMany").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        operator = new InProcessOperator(client, ns, OperatorSettings.defaults().withFailureBackoff(Duration.ofSeconds(1))
                .withStatusInterval(Duration.ofSeconds(1)));
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static String manifest(String name, int workers, String image, String more) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1, globalBatchSize: 96}
                  checkpoint: {claimName: %s}
                  resources: {workers: %d}
                  image: %s
                %s""".formatted(name, CLAIM, workers, image, more);
    }

    static TrainingJob create(KubernetesClient client, String yaml) {
        return client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal(yaml, TrainingJob.class))
                .create();
    }

    static TrainingJob job(KubernetesClient client, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    /** The job's pods of {@code attempt}, by rank. */
    static List<Pod> pods(KubernetesClient client, String job, int attempt) {
        return client.pods().inNamespace(ns).withLabel(Labels.JOB, job).withLabel(Labels.ATTEMPT, String.valueOf(attempt))
                .list().getItems().stream().sorted(Comparator.comparing(p -> p.getMetadata().getName())).toList();
    }

    static Map<String, String> env(Pod p) {
        return p.getSpec().getContainers().get(0).getEnv().stream()
                .collect(Collectors.toMap(EnvVar::getName, e -> e.getValue() == null ? "" : e.getValue()));
    }

    static JobCondition condition(TrainingJob job, String type) {
        return job.getStatus() == null ? null : job.getStatus().conditions.stream().filter(c -> type.equals(c.type)).findFirst().orElse(null);
    }

    static void awaitGangRunning(KubernetesClient client, String name, int attempt, int workers) {
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            TrainingJob j = job(client, name);
            assertThat(j.getStatus().attempts).isEqualTo(attempt);
            assertThat(j.getStatus().workers.worldSize).isEqualTo(workers);
            assertThat(j.getStatus().workers.ready).as("ready pods of %s", name).isEqualTo(workers);
        });
    }

    @Test
    void aGangIsOnePodARankBehindAHeadlessServiceAndANetworkPolicy(KubernetesClient client) {
        TrainingJob job = create(client, manifest("trio", 3, RANK_IMAGE, ""));
        awaitGangRunning(client, "trio", 1, 3);

        List<Pod> pods = pods(client, "trio", 1);
        assertThat(pods).extracting(p -> p.getMetadata().getName()).containsExactly("trio-1-0", "trio-1-1", "trio-1-2");
        for (int rank = 0; rank < 3; rank++) {
            Pod p = pods.get(rank);
            assertThat(p.getMetadata().getLabels()).containsEntry(Labels.RANK, String.valueOf(rank))
                    .containsEntry(Labels.JOB, "trio").containsEntry(Labels.ATTEMPT, "1");
            assertThat(env(p)).containsEntry("WORLD_SIZE", "3").containsEntry("RANK", String.valueOf(rank))
                    .containsEntry("NODE_RANK", String.valueOf(rank)).containsEntry("LOCAL_RANK", "0")
                    .as("rank 0's name in the job's Service, known before rank 0 has an IP")
                    .containsEntry("MASTER_ADDR", "trio-1-0.trio-workers").containsEntry("MASTER_PORT", "29500")
                    .as("and, needing no DNS, a rendezvous file of this attempt on the shared checkpoint volume")
                    .containsEntry("GOODPUT_RENDEZVOUS_FILE", "/checkpoints/" + job.getMetadata().getUid() + "/c10d/attempt-1");
            assertThat(p.getSpec().getContainers().get(0).getEnv()).filteredOn(e -> e.getName().equals("GOODPUT_POD_IP"))
                    .singleElement().satisfies(e -> assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("status.podIP"));
            assertThat(p.getSpec().getHostname()).isEqualTo(p.getMetadata().getName());
            assertThat(p.getSpec().getSubdomain()).isEqualTo("trio-workers");
            assertThat(p.getSpec().getContainers().get(0).getPorts()).extracting(c -> c.getName() + ":" + c.getContainerPort())
                    .containsExactly("metrics:9400", "c10d:29500");
            assertThat(p.getSpec().getVolumes()).filteredOn(v -> v.getPersistentVolumeClaim() != null)
                    .extracting(v -> v.getPersistentVolumeClaim().getClaimName()).containsExactly(CLAIM);
        }

        Service svc = client.services().inNamespace(ns).withName("trio-workers").get();
        TrainingJobReconcileTest.assertOwnedBy(svc, job);
        assertThat(svc.getSpec().getClusterIP()).isEqualTo("None");
        assertThat(svc.getSpec().getPublishNotReadyAddresses()).isTrue();
        assertThat(svc.getSpec().getSelector()).containsExactlyInAnyOrderEntriesOf(
                Map.of(Labels.JOB, "trio", Labels.NAME, Labels.TRAINER));
        assertThat(svc.getSpec().getPorts()).singleElement().satisfies(p -> assertThat(p.getPort()).isEqualTo(29500));

        NetworkPolicy policy = client.network().v1().networkPolicies().inNamespace(ns).withName("trio-workers").get();
        TrainingJobReconcileTest.assertOwnedBy(policy, job);
        Map<String, String> trio = Map.of(Labels.JOB, "trio", Labels.NAME, Labels.TRAINER);
        assertThat(policy.getSpec().getPodSelector().getMatchLabels()).containsExactlyInAnyOrderEntriesOf(trio);
        assertThat(policy.getSpec().getPolicyTypes()).containsExactly("Ingress");
        assertThat(policy.getSpec().getIngress()).hasSize(2);
        var peers = policy.getSpec().getIngress().get(0);
        assertThat(peers.getFrom()).singleElement().satisfies(f -> {
            assertThat(f.getPodSelector().getMatchLabels()).containsExactlyInAnyOrderEntriesOf(trio);
            assertThat(f.getNamespaceSelector()).as("this namespace only").isNull();
        });
        assertThat(peers.getPorts()).as("every port: the c10d store and the backend's own connections").isEmpty();
        var metrics = policy.getSpec().getIngress().get(1);
        assertThat(metrics.getFrom()).as("from anywhere, as without a policy").isEmpty();
        assertThat(metrics.getPorts()).singleElement().satisfies(p -> assertThat(p.getPort().getIntVal()).isEqualTo(9400));

        client.resources(TrainingJob.class).inNamespace(ns).withName("trio").delete();
    }

    @Test
    void oneEvictedPodRestartsTheWholeGangAsOnePreemption(KubernetesClient client) throws InterruptedException {
        create(client, manifest("evicted", 3, RANK_IMAGE, "  cost: {pricePerHour: 3.6}\n"));
        awaitGangRunning(client, "evicted", 1, 3);
        Thread.sleep(2500); // pod times have whole seconds: let the attempt be billed for some

        assertThat(kubelet.evict(ns, "evicted-1-1")).isTrue();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            TrainingJob j = job(client, "evicted");
            assertThat(j.getStatus().attempts).isEqualTo(2);
            assertThat(pods(client, "evicted", 2)).hasSize(3);
        });
        TrainingJob j = job(client, "evicted");
        assertThat(j.getStatus().preemptions).as("one preemption for the gang").isEqualTo(1);
        assertThat(j.getStatus().failures).isNull();
        AttemptRecord first = j.getStatus().attemptHistory.get(0);
        assertThat(first.outcome).isEqualTo(AttemptOutcome.Preempted);
        assertThat(first.reason).as("the evicted pod's reason, not its stopped peers'").isEqualTo("EvictionByEvictionAPI");
        assertThat(first.checkpointStep).as("the checkpoint rank 0 saved when the operator stopped it, though the"
                + " evicted rank 1 decided the outcome").isEqualTo(416L);
        assertThat(first.endStep).isEqualTo(416L);
        assertThat(j.getStatus().lastCheckpoint.step).isEqualTo(416L);
        assertThat(client.v1().events().inNamespace(ns).list().getItems()).filteredOn(e -> "evicted".equals(
                e.getInvolvedObject().getName()) && "Preempted".equals(e.getReason())).singleElement()
                .satisfies(e -> assertThat(e.getMessage()).contains("attempt 2 resumes from the checkpoint at step 416"));
        // The peers were stopped by the operator, gracefully (exit 75 is the trainer's answer to SIGTERM).
        for (String peer : List.of("evicted-1-0", "evicted-1-2")) {
            Pod p = lastSeen.get(peer);
            assertThat(p.getMetadata().getAnnotations()).containsEntry(Labels.STOP_REASON, AttemptStateMachine.STOP_GANG);
            assertThat(p.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode()).isEqualTo(75);
        }
        // Every pod of the gang is billed: the record's price is three pods' price.
        assertThat(first.workers).isEqualTo(3);
        assertThat(first.pricePerHour).isEqualTo(3 * 3.6);
        double billed = Duration.between(CostLedger.time(first.scheduled), CostLedger.time(first.ended)).toMillis() / 1000.0;
        assertThat(billed).isGreaterThanOrEqualTo(2);
        var cost = CostLedger.compute(j.getStatus().attemptHistory, null, CostLedger.time(j.getMetadata().getCreationTimestamp()),
                false, CostLedger.time(first.ended));
        assertThat(cost.cost()).isCloseTo(billed * 3 * 3.6 / 3600, within(1e-5));
        assertThat(condition(j, "Priced").message).contains("spec.cost.pricePerHour x 3 workers");

        awaitGangRunning(client, "evicted", 2, 3);
        client.resources(TrainingJob.class).inNamespace(ns).withName("evicted").delete();
    }

    @Test
    void oneFailedPodIsOneFailureOfTheGang(KubernetesClient client) {
        create(client, manifest("failing", 2, RANK_1_FAILS_IMAGE, "  backoffLimit: 0\n"));
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(job(client, "failing").getStatus().phase).isEqualTo(JobPhase.Failed));
        TrainingJob j = job(client, "failing");
        assertThat(j.getStatus().failures).isEqualTo(1);
        assertThat(j.getStatus().preemptions).as("rank 0, stopped for the gang, is no preemption").isNull();
        assertThat(j.getStatus().attempts).isEqualTo(1);
        assertThat(condition(j, "Failed").reason).isEqualTo("BackoffLimitExceeded");
        assertThat(condition(j, "Failed").message).contains("exit code 1");
        Pod rank0 = lastSeen.get("failing-1-0");
        assertThat(rank0.getMetadata().getAnnotations()).containsEntry(Labels.STOP_REASON, AttemptStateMachine.STOP_GANG);
        assertThat(rank0.getStatus().getContainerStatuses().get(0).getState().getTerminated().getExitCode())
                .as("stopped gracefully").isEqualTo(75);
        assertThat(j.getStatus().attemptHistory).singleElement().satisfies(r -> {
            assertThat(r.outcome).isEqualTo(AttemptOutcome.Failed);
            assertThat(r.exitCode).as("the failed pod's").isEqualTo(1);
        });
    }

    @Test
    void suspendingAGangStopsEveryPodAndResumingStartsThemAllCountingNothing(KubernetesClient client) {
        create(client, manifest("paused", 2, RANK_IMAGE, ""));
        awaitGangRunning(client, "paused", 1, 2);
        patchSuspend(client, "paused", true);
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            TrainingJob j = job(client, "paused");
            assertThat(j.getStatus().phase).isEqualTo(JobPhase.Suspended);
            assertThat(condition(j, "Suspended").reason).isEqualTo("Suspended");
        });
        for (String pod : List.of("paused-1-0", "paused-1-1")) {
            assertThat(lastSeen.get(pod).getMetadata().getAnnotations())
                    .containsEntry(Labels.STOP_REASON, AttemptStateMachine.STOP_SUSPENDED);
        }
        patchSuspend(client, "paused", false);
        awaitGangRunning(client, "paused", 2, 2);
        TrainingJob j = job(client, "paused");
        assertThat(j.getStatus().preemptions).isNull();
        assertThat(j.getStatus().failures).isNull();
        assertThat(pods(client, "paused", 2)).extracting(p -> p.getMetadata().getName())
                .containsExactly("paused-2-0", "paused-2-1");
        client.resources(TrainingJob.class).inNamespace(ns).withName("paused").delete();
    }

    static void patchSuspend(KubernetesClient client, String name, boolean suspend) {
        client.resources(TrainingJob.class).inNamespace(ns).withName(name)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
    }

    @Test
    void oneWorkerIsThePodAsBeforeWithNoServiceOrPolicy(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: solo
                spec:
                  model: {architecture: mlp}
                  training: {epochs: 1}
                  resources: {workers: 1}
                  image: %s
                """.formatted(RANK_IMAGE));
        awaitGangRunning(client, "solo", 1, 1);
        Pod p = client.pods().inNamespace(ns).withName("solo-1").get();
        assertThat(p.getMetadata().getLabels()).doesNotContainKey(Labels.RANK);
        assertThat(env(p)).containsEntry("WORLD_SIZE", "1").containsEntry("RANK", "0")
                .doesNotContainKeys("MASTER_ADDR", "MASTER_PORT");
        assertThat(p.getSpec().getHostname()).isNull();
        assertThat(p.getSpec().getContainers().get(0).getPorts()).extracting(c -> c.getName()).containsExactly("metrics");
        assertThat(client.services().inNamespace(ns).withName("solo-workers").get()).isNull();
        assertThat(client.network().v1().networkPolicies().inNamespace(ns).withName("solo-workers").get()).isNull();
        assertThat(job(client, "solo").getStatus().attemptHistory.get(0).workers).isNull();
        client.resources(TrainingJob.class).inNamespace(ns).withName("solo").delete();
    }

    @Test
    void aGangOnAReadWriteOnceClaimOrWithANameTooLongForItsHostnamesIsInvalid(KubernetesClient client) {
        client.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder().withNewMetadata()
                .withName("one-node").endMetadata().withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        create(client, manifest("rwo", 2, RANK_IMAGE, "").replace("claimName: " + CLAIM, "claimName: one-node"));
        String longName = "a".repeat(48);
        create(client, manifest(longName, 2, RANK_IMAGE, ""));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            JobCondition rwo = condition(job(client, "rwo"), "Valid");
            assertThat(rwo).isNotNull();
            assertThat(rwo.status).isEqualTo("False");
            assertThat(rwo.reason).isEqualTo("InvalidSpec");
            assertThat(rwo.message).contains("spec.checkpoint.claimName").contains("ReadWriteOnce").contains("ReadWriteMany");
            JobCondition name = condition(job(client, longName), "Valid");
            assertThat(name).isNotNull();
            assertThat(name.status).isEqualTo("False");
            assertThat(name.message).contains("metadata.name").contains("47 characters");
        });
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, "rwo").list().getItems()).isEmpty();
        assertThat(client.pods().inNamespace(ns).withLabel(Labels.JOB, longName).list().getItems()).isEmpty();
    }
}
