package dev.goodput.operator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.JobPhase;
import dev.goodput.api.status.JobCondition;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.harness.InProcessOperator;
import dev.goodput.operator.harness.RealApiServer;
import dev.goodput.operator.harness.StandInKubelet;
import dev.goodput.operator.harness.TestApiServer;
import dev.goodput.operator.harness.TrainerJar;
import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.utils.Serialization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator with the real trainer: the stand-in kubelet runs the operator's default image as
 * {@code java -jar goodput-trainer.jar} on Fashion-MNIST slices (/usr/share/datasets/fashion-mnist). A small MLP
 * trains a 2048-example slice at thousands of samples/s, so jobs that must still run when the test acts on them
 * are bounded by {@code maxDuration} (training time, carried across attempts by the checkpoints) instead of epochs.
 * The operator polls /progress every second here (5 s by default).
 */
@ExtendWith(RealApiServer.class)
class TrainerPodLifecycleTest {
    static final String STALLING_IMAGE = "goodput.test/stalling-trainer:1";
    static final OperatorSettings SETTINGS = OperatorSettings.defaults().withProgressInterval(Duration.ofSeconds(1))
            .withStatusInterval(Duration.ofSeconds(1)); // status follows every poll here (60 s by default)
    static String ns;
    static StandInKubelet kubelet;
    static InProcessOperator operator;

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        var trainer = TrainerJar.entrypoint();
        ns = api.createNamespace(client, "trainer");
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("trainer-node").gpus(1).workDir(work)
                .image(OperatorSettings.DEFAULT_IMAGE, trainer)
                // The trainer whose training thread hangs before step 3001 while /progress still answers (test-only).
                .image(STALLING_IMAGE, List.of(trainer.get(0), "-Dgoodput.faultInjection.stallAtStep=3000",
                        trainer.get(1), trainer.get(2), trainer.get(3)))
                .start();
        operator = new InProcessOperator(client, ns, SETTINGS);
    }

    @AfterAll
    static void stop() {
        if (operator != null) operator.close();
        if (kubelet != null) kubelet.close();
    }

    static TrainingJob job(KubernetesClient client, String name) {
        return client.resources(TrainingJob.class).inNamespace(ns).withName(name).get();
    }

    static TrainingJob create(KubernetesClient client, String yaml) {
        return client.resources(TrainingJob.class).inNamespace(ns).resource(Serialization.unmarshal(yaml, TrainingJob.class))
                .create();
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

    /** A job that trains for {@code seconds} of training time (across attempts), checkpointing every second. */
    static String timed(String name, int seconds) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: %s
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 256}
                  training: {maxDuration: %ds, globalBatchSize: 64, batchSize: 64}
                  checkpoint: {interval: 1s}
                """.formatted(name, seconds);
    }

    /** Waits for a phase; a finished job in another phase fails at once, showing its status and its pods' ends. */
    static TrainingJob awaitPhase(KubernetesClient client, String name, String phase, Duration timeout) {
        return awaitStatus(client, name, phase, timeout, s -> true);
    }

    /** Waits until the job is in {@code phase} and its status satisfies {@code also}. */
    static TrainingJob awaitStatus(KubernetesClient client, String name, String phase, Duration timeout,
            Predicate<TrainingJobStatus> also) {
        await().atMost(timeout).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            TrainingJob j = job(client, name);
            String now = j.getStatus() == null || j.getStatus().phase == null ? null : j.getStatus().phase.name();
            if (!phase.equals(now) && ("Succeeded".equals(now) || "Failed".equals(now))) {
                // Not an AssertionError: Awaitility stops at once instead of waiting out the timeout.
                throw new IllegalStateException("job " + name + " ended " + now + ", not " + phase + "\n" + describe(client, j));
            }
            assertThat(now).as("phase of %s%n%s", name, describe(client, j)).isEqualTo(phase);
            assertThat(also.test(j.getStatus())).as("status of %s%n%s", name, describe(client, j)).isTrue();
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

    /** The Events recorded on a job, oldest first. */
    static List<Event> events(KubernetesClient client, String job) {
        return client.v1().events().inNamespace(ns).list().getItems().stream()
                .filter(e -> job.equals(e.getInvolvedObject().getName()) && "TrainingJob".equals(e.getInvolvedObject().getKind()))
                .toList();
    }

    static List<Pod> pods(KubernetesClient client, String job) {
        return client.pods().inNamespace(ns).withLabel(Labels.JOB, job).list().getItems();
    }

    static void setSuspend(KubernetesClient client, String job, boolean suspend) {
        client.resources(TrainingJob.class).inNamespace(ns).withName(job)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":{\"suspend\":" + suspend + "}}");
    }

    /** The step the trainer's {@code latest} checkpoint pointer names, in the claim folder. */
    static long latestStep(TrainingJob job) throws java.io.IOException {
        Path latest = kubelet.claimDir(ns, job.getMetadata().getName() + "-checkpoints").resolve(job.getMetadata().getUid())
                .resolve("latest");
        return Long.parseLong(Files.readString(latest).strip().replace("step-", ""));
    }

    static String trainerLog(String pod) throws java.io.IOException {
        return Files.readString(kubelet.podDir(ns, pod).orElseThrow().resolve("trainer.log"));
    }

    @Test
    void runsTheRealTrainerToSucceededWithTheFinalMetricInStatus(TestApiServer api, KubernetesClient client) {
        create(client, manifest("tiny", 2048, 2));
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

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(events(client, "tiny")).anySatisfy(e -> {
                assertThat(e.getReason()).isEqualTo("Completed");
                assertThat(e.getType()).isEqualTo("Normal");
                assertThat(e.getMessage()).contains("budget spent").contains("test accuracy 0."); // the metric by its name: accuracy without a target
            });
            // The outcome is recorded: the pod-tracking finalizer is gone; the finished pod stays, as a Job's do.
            assertThat(client.pods().inNamespace(ns).withName("tiny-1").get().getMetadata().getFinalizers()).isEmpty();
        });
    }

    @Test
    void reachingTheTargetRecordsTimeToTargetAndTheTtlDeletesTheJob(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: target
                spec:
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 512}
                  training: {epochs: 10, globalBatchSize: 64, batchSize: 64}
                  target: {metric: accuracy, value: 0.6}
                  ttlSecondsAfterFinished: 3
                """);
        TrainingJob j = awaitPhase(client, "target", "Succeeded", Duration.ofSeconds(120));
        assertThat(condition(j, "Complete").reason).isEqualTo("TargetReached");
        // Time to target in status is wall clock, submission → end of the attempt that reached it (docs/cost.md);
        // the trainer's own figure (training seconds only) is kept in progress and is shorter.
        var attempt = j.getStatus().attemptHistory.get(0);
        assertThat(attempt.targetReached).isTrue();
        assertThat(j.getStatus().timeToTargetSeconds).isEqualTo(java.time.Duration.between(
                Instant.parse(j.getMetadata().getCreationTimestamp()), Instant.parse(attempt.ended)).toSeconds());
        assertThat(j.getStatus().progress.trainingTimeToTargetSeconds).isPositive()
                .isLessThanOrEqualTo(j.getStatus().timeToTargetSeconds + 1);
        assertThat(j.getStatus().costToTarget).as("no price: cost 0").isZero();
        assertThat(j.getStatus().progress.metric).isGreaterThanOrEqualTo(0.6);
        assertThat(j.getStatus().progress.epoch).isLessThan(10);

        // ttlSecondsAfterFinished: the job goes 3 s after completionTime (its pod's finalizer released first).
        await().atMost(Duration.ofSeconds(30)).until(() -> job(client, "target") == null);
        assertThat(client.pods().inNamespace(ns).withName("target-1").get().getMetadata().getFinalizers()).isEmpty();
    }

    @Test
    void suspendCheckpointsAndStopsThePodAndResumeContinuesFromThatCheckpoint(KubernetesClient client) throws Exception {
        TrainingJob created = create(client, timed("suspend", 6));
        awaitStatus(client, "suspend", "Running", Duration.ofSeconds(90), s -> s.lastCheckpoint != null);
        // A budget edit while it runs applies at the next attempt: the running pod keeps generation 1.
        client.resources(TrainingJob.class).inNamespace(ns).withName("suspend").edit(j -> {
            j.getSpec().training.maxDuration = "7s";
            return j;
        });
        Thread.sleep(1500);
        assertThat(job(client, "suspend").getMetadata().getGeneration()).isEqualTo(2L);
        assertThat(job(client, "suspend").getStatus().observedGeneration).as("what the running pod runs").isEqualTo(1L);

        setSuspend(client, "suspend", true);
        TrainingJob suspended = awaitStatus(client, "suspend", "Suspended", Duration.ofSeconds(60),
                s -> "Suspended".equals(StatusCondition.reason(s, "Suspended")));
        // The pod is gone (released once the suspension was recorded), after writing a checkpoint at SIGTERM ...
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns).withName("suspend-1").get() == null);
        assertThat(trainerLog("suspend-1")).contains("SIGTERM");
        long step = latestStep(created);
        // ... which status knows from the termination message.
        assertThat(suspended.getStatus().lastCheckpoint.step).isEqualTo(step);
        assertThat(condition(suspended, "Suspended").status).isEqualTo("True");
        assertThat(condition(suspended, "Suspended").message).contains("last checkpoint at step " + step);
        assertThat(suspended.getStatus().attempts).isEqualTo(1);
        assertThat(suspended.getStatus().preemptions).as("a suspension is no preemption").isNull();
        assertThat(suspended.getStatus().failures).as("nor a failure").isNull();
        assertThat(events(client, "suspend")).anySatisfy(e -> assertThat(e.getReason()).isEqualTo("Suspended"));
        Thread.sleep(1500);
        assertThat(pods(client, "suspend")).as("no new pod while suspended").isEmpty();
        assertThat(job(client, "suspend").getStatus().phase).isEqualTo(JobPhase.Suspended);

        // Suspended, the trajectory may change too (the CRD refuses it while the job may run).
        client.resources(TrainingJob.class).inNamespace(ns).withName("suspend").edit(j -> {
            j.getSpec().training.optimizer.lr = 0.002;
            return j;
        });
        setSuspend(client, "suspend", false);
        TrainingJob j = awaitPhase(client, "suspend", "Succeeded", Duration.ofSeconds(120));
        long generation = j.getMetadata().getGeneration();
        assertThat(j.getStatus().observedGeneration).isEqualTo(generation);
        assertThat(j.getStatus().attemptHistory).extracting(r -> r.generation).containsExactly(1L, generation);
        assertThat(events(client, "suspend")).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("SpecChanged");
            assertThat(e.getMessage()).isEqualTo("attempt 2 runs generation " + generation
                    + ": spec.training.maxDuration 6s -> 7s, spec.training.optimizer.lr 0.001 -> 0.002");
        });
        assertThat(j.getStatus().attempts).isEqualTo(2);
        assertThat(j.getStatus().preemptions).isNull();
        assertThat(j.getStatus().failures).isNull();
        assertThat(condition(j, "Suspended").status).isEqualTo("False");
        assertThat(condition(j, "Suspended").reason).isEqualTo("Resumed");
        assertThat(report(client.pods().inNamespace(ns).withName("suspend-2").get()).resumedFromStep)
                .as("attempt 2 continued from the checkpoint written at suspension").isEqualTo(step);
        assertThat(events(client, "suspend")).extracting(Event::getReason).contains("Suspended", "Resumed", "Completed");
    }

    @Test
    void aTrainerThatTakesNoStepIsStalledAndRestartedFromItsCheckpointAsAFailure(KubernetesClient client) {
        create(client, """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: stalled
                spec:
                  image: %s
                  model: {architecture: mlp, width: 32}
                  data: {trainLimit: 2048, testLimit: 256}
                  training: {maxDuration: 60s, globalBatchSize: 64, batchSize: 64}
                  checkpoint: {interval: 1s, gracePeriodSeconds: 3}
                  stall: {timeout: 3s, restart: true}
                  backoffLimit: 1
                """.formatted(STALLING_IMAGE));
        // Each attempt hangs after step 3000, some periodic checkpoints later: reported, stopped, counted as a failure;
        // attempt 2 resumes attempt 1's checkpoint, stalls again, and backoffLimit 1 ends the job.
        TrainingJob j = awaitPhase(client, "stalled", "Failed", Duration.ofSeconds(120));
        var first = j.getStatus().attemptHistory.get(0);
        var second = j.getStatus().attemptHistory.get(1);
        assertThat(j.getStatus().attemptHistory).extracting(r -> r.outcome + "/" + r.reason)
                .containsExactly("Failed/Stalled", "Failed/Stalled");
        assertThat(j.getStatus().failures).isEqualTo(2);
        assertThat(j.getStatus().preemptions).as("a stall is no preemption").isNull();
        assertThat(second.startStep).as("attempt 2 resumed attempt 1's checkpoint").isEqualTo(first.checkpointStep)
                .isPositive().isLessThanOrEqualTo(3000L);
        assertThat(condition(j, "Failed").message).contains("took no training step for longer than its stall timeout");
        assertThat(condition(j, "Stalled").status).isEqualTo("True");
        assertThat(events(client, "stalled")).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("Stalled");
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getMessage()).startsWith("attempt 1: no training step for").contains("(last step 3000)")
                    .contains("stopping the pod, the next attempt resumes from the checkpoint at step");
        });
        assertThat(events(client, "stalled")).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("AttemptFailed");
            assertThat(e.getMessage()).contains("attempt 1 failed (Stalled)");
        });
    }

    @Test
    void statusFollowsProgressWhileRunningAndAnOperatorRestartLosesNothing(TestApiServer api, KubernetesClient client)
            throws Exception {
        create(client, timed("restart", 6));
        TrainingJob running = awaitStatus(client, "restart", "Running", Duration.ofSeconds(90), s -> s.progress != null
                && s.progress.step > 0 && s.progress.samplesPerSecond != null && s.tunedBatch != null && s.lastCheckpoint != null);
        assertThat(running.getStatus().tunedBatch.micro).isEqualTo(64);
        assertThat(running.getStatus().startTime).isNotNull();
        // kubectl prints the live step and samples/s.
        String[] columns = api.kubectl("get", "tj", "-n", ns, "restart", "--no-headers").output().strip().split("\\s+");
        assertThat(columns[0]).isEqualTo("restart");
        assertThat(columns[2]).as("STEP").matches("\\d+");
        assertThat(columns[4]).as("SAMPLES/S").matches("[0-9.e+]+");

        operator.close();
        TrainingJobStatus before = job(client, "restart").getStatus();
        Thread.sleep(1000);
        operator = new InProcessOperator(client, ns, SETTINGS);

        TrainingJob j = awaitPhase(client, "restart", "Succeeded", Duration.ofSeconds(120));
        assertThat(pods(client, "restart")).as("no second pod").extracting(p -> p.getMetadata().getName())
                .containsExactly("restart-1");
        assertThat(j.getStatus().attempts).isEqualTo(before.attempts).isEqualTo(1);
        assertThat(j.getStatus().preemptions).isEqualTo(before.preemptions).isNull();
        assertThat(j.getStatus().failures).isNull();
        assertThat(j.getStatus().startTime).isEqualTo(before.startTime);
        assertThat(j.getStatus().progress.step).isGreaterThanOrEqualTo(before.progress.step);
    }

    @Test
    void deletingAJobStopsItsPodGracefullySoTheLastCheckpointIsWritten(KubernetesClient client) throws Exception {
        TrainingJob created = create(client, timed("deleted", 60));
        awaitStatus(client, "deleted", "Running", Duration.ofSeconds(90), s -> s.lastCheckpoint != null);

        client.resource(created).delete();
        // The job waits (operator finalizer) for its pod to checkpoint and stop; its claim is still there.
        TrainingJob deleting = job(client, "deleted");
        assertThat(deleting == null || deleting.getMetadata().getDeletionTimestamp() != null).isTrue();
        assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("deleted-checkpoints").get()).isNotNull();
        await().atMost(Duration.ofSeconds(60)).until(() -> job(client, "deleted") == null);
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns).withName("deleted-1").get() == null);

        assertThat(trainerLog("deleted-1")).contains("SIGTERM");
        TrainerReport last = Serialization.unmarshal(
                Files.readString(kubelet.podDir(ns, "deleted-1").orElseThrow().resolve("termination-log")), TrainerReport.class);
        assertThat(last.phase).isEqualTo(TrainerPhase.Preempted);
        assertThat(last.exitCode).isEqualTo(75);
        assertThat(latestStep(created)).as("the checkpoint written at SIGTERM is the latest").isEqualTo(last.lastCheckpoint.step);
        // No garbage collector runs here: the claim the operator created stays, owned by the job, for the GC to take.
        var claim = client.persistentVolumeClaims().inNamespace(ns).withName("deleted-checkpoints").get();
        assertThat(claim.getMetadata().getOwnerReferences()).singleElement()
                .satisfies(r -> assertThat(r.getUid()).isEqualTo(created.getMetadata().getUid()));
    }

    /** Reads a condition's reason from a status, null when absent. */
    static final class StatusCondition {
        static String reason(TrainingJobStatus s, String type) {
            return s.conditions == null ? null : s.conditions.stream().filter(c -> type.equals(c.type)).map(c -> c.reason)
                    .findFirst().orElse(null);
        }
    }
}
