package dev.goodput.operator.harness;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerStateTerminated;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.Watch;
import io.fabric8.kubernetes.client.Watcher;
import io.fabric8.kubernetes.client.WatcherException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The stand-in kubelet against the real apiserver, running real processes. */
@ExtendWith(RealApiServer.class)
class StandInKubeletTest {
    static String ns;
    static StandInKubelet kubelet;
    static Watch watch;
    /** Every version of every pod the apiserver reported, so the last status before removal can be checked. */
    static final Map<String, List<Pod>> history = new ConcurrentHashMap<>();

    @BeforeAll
    static void start(TestApiServer api, KubernetesClient client, @TempDir Path work) {
        ns = api.createNamespace(client, "kubelet");
        watch = client.pods().inNamespace(ns).watch(new Watcher<>() {
            @Override
            public void eventReceived(Action action, Pod pod) {
                history.computeIfAbsent(pod.getMetadata().getName(), k -> new CopyOnWriteArrayList<>()).add(pod);
            }

            @Override
            public void onClose(WatcherException cause) {}
        });
        kubelet = StandInKubelet.builder(client).namespace(ns).nodeName("kubelet-test-node").gpus(8)
                .nodeLabel("nvidia.com/gpu.product", "H100").workDir(work).start();
    }

    @AfterAll
    static void stop() {
        if (kubelet != null) kubelet.close();
        if (watch != null) watch.close();
    }

    static Pod pod(String name, String script, int graceSeconds) {
        return new PodBuilder().withNewMetadata().withName(name).withLabels(Map.of("app", "t")).endMetadata()
                .withNewSpec().withRestartPolicy("Never").withTerminationGracePeriodSeconds((long) graceSeconds)
                .addNewContainer().withName("trainer").withImage("busybox").withCommand("sh", "-c", script)
                .withNewResources().addToLimits(StandInKubelet.GPU, new Quantity("1")).endResources()
                .endContainer().endSpec().build();
    }

    static Pod awaitPhase(KubernetesClient client, String name, String phase) {
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(50)).until(() -> {
            Pod p = client.pods().inNamespace(ns).withName(name).get();
            return p != null && p.getStatus() != null && phase.equals(p.getStatus().getPhase());
        });
        return client.pods().inNamespace(ns).withName(name).get();
    }

    static ContainerStateTerminated terminated(Pod pod) {
        return pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
    }

    static Optional<PodCondition> condition(Pod pod, String type) {
        return pod.getStatus().getConditions().stream().filter(c -> type.equals(c.getType())).findFirst();
    }

    /** The last version of a pod the apiserver reported before it was removed. */
    static Pod lastSeen(KubernetesClient client, String name) {
        await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace(ns).withName(name).get() == null);
        List<Pod> versions = history.get(name);
        return versions.get(versions.size() - 1);
    }

    @Test
    void podRunsToSucceededWithExitCodeAndTerminationMessage(KubernetesClient client) {
        client.pods().inNamespace(ns).resource(pod("succeeds",
                "echo '{\"phase\":\"Succeeded\"}' > /dev/termination-log; exit 0", 30)).create();
        Pod done = awaitPhase(client, "succeeds", "Succeeded");
        assertThat(done.getSpec().getNodeName()).isEqualTo("kubelet-test-node");
        assertThat(done.getStatus().getHostIP()).isEqualTo(StandInKubelet.NODE_IP);
        assertThat(done.getStatus().getPodIP()).startsWith("127.").isNotEqualTo(StandInKubelet.NODE_IP);
        assertThat(terminated(done).getExitCode()).isZero();
        assertThat(terminated(done).getReason()).isEqualTo("Completed");
        assertThat(terminated(done).getMessage()).isEqualTo("{\"phase\":\"Succeeded\"}\n");
        assertThat(condition(done, "PodScheduled").orElseThrow().getStatus()).isEqualTo("True");
        assertThat(condition(done, "Ready").orElseThrow().getStatus()).isEqualTo("False");
        // It was Running (and Ready) on the way.
        assertThat(history.get("succeeds")).anySatisfy(p -> {
            assertThat(p.getStatus().getPhase()).isEqualTo("Running");
            assertThat(condition(p, "Ready").orElseThrow().getStatus()).isEqualTo("True");
        });
    }

    @Test
    void failingPodSeesItsEnvVolumesAndReportsExitCode(KubernetesClient client) {
        client.configMaps().inNamespace(ns).resource(new ConfigMapBuilder().withNewMetadata().withName("job-config")
                .endMetadata().addToData("job.yaml", "kind: TrainingJob\n").build()).create();
        client.persistentVolumeClaims().inNamespace(ns).resource(new PersistentVolumeClaimBuilder().withNewMetadata()
                .withName("ckpt").endMetadata().withNewSpec().withAccessModes("ReadWriteOnce").withNewResources()
                .addToRequests("storage", new Quantity("1Gi")).endResources().endSpec().build()).create();
        Pod pod = new PodBuilder(pod("fails", """
                cat /etc/goodput/job.yaml > $(MSG)
                echo "$POD_NAME $ATTEMPT" >> $(MSG)
                echo saved > $GOODPUT_CHECKPOINT_DIR/step-1
                exit 3
                """, 30)).editSpec()
                .addNewVolume().withName("config").withNewConfigMap().withName("job-config").endConfigMap().endVolume()
                .addNewVolume().withName("checkpoints").withNewPersistentVolumeClaim().withClaimName("ckpt")
                .endPersistentVolumeClaim().endVolume()
                .editFirstContainer()
                .addNewEnv().withName("MSG").withValue("/dev/termination-log").endEnv()
                .addNewEnv().withName("POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name")
                .endFieldRef().endValueFrom().endEnv()
                .addNewEnv().withName("ATTEMPT").withValue("7").endEnv()
                .addNewEnv().withName("GOODPUT_CHECKPOINT_DIR").withValue("/checkpoints").endEnv()
                .addNewVolumeMount().withName("config").withMountPath("/etc/goodput").endVolumeMount()
                .addNewVolumeMount().withName("checkpoints").withMountPath("/checkpoints").endVolumeMount()
                .endContainer().endSpec().build();
        client.pods().inNamespace(ns).resource(pod).create();
        Pod done = awaitPhase(client, "fails", "Failed");
        assertThat(terminated(done).getExitCode()).isEqualTo(3);
        assertThat(terminated(done).getReason()).isEqualTo("Error");
        assertThat(terminated(done).getMessage()).isEqualTo("kind: TrainingJob\nfails 7\n");
        // The claim's folder outlives the pod: what a next attempt would resume from.
        assertThat(kubelet.claimDir(ns, "ckpt").resolve("step-1")).hasContent("saved");
    }

    @Test
    void eachPodHasItsOwnAddressAndItsContainerPortReachesTheProcess(KubernetesClient client) throws Exception {
        // Two pods that both "listen on 9400" (GOODPUT_METRICS_PORT=9400): each is told a free host port instead and
        // is reached at <its podIP>:9400 through the stand-in's forwarder.
        for (String name : List.of("port-a", "port-b")) {
            Pod pod = new PodBuilder(pod(name, "echo $PORT > /out/port; echo $MY_IP > /out/ip; sleep 300", 1)).editSpec()
                    .addNewVolume().withName("out").withNewEmptyDir().endEmptyDir().endVolume()
                    .editFirstContainer().addNewPort().withName("metrics").withContainerPort(9400).endPort()
                    .addNewEnv().withName("PORT").withValue("9400").endEnv()
                    .addNewEnv().withName("MY_IP").withNewValueFrom().withNewFieldRef().withFieldPath("status.podIP")
                    .endFieldRef().endValueFrom().endEnv()
                    .addNewVolumeMount().withName("out").withMountPath("/out").endVolumeMount()
                    .endContainer().endSpec().build();
            client.pods().inNamespace(ns).resource(pod).create();
        }
        Pod a = awaitPhase(client, "port-a", "Running");
        Pod b = awaitPhase(client, "port-b", "Running");
        assertThat(a.getStatus().getPodIP()).isNotEqualTo(b.getStatus().getPodIP());
        for (Pod p : List.of(a, b)) {
            Path out = kubelet.hostPath(ns, p.getMetadata().getName(), "/out").orElseThrow();
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(out.resolve("ip"))
                    && !Files.readString(out.resolve("ip")).isBlank());
            int hostPort = Integer.parseInt(Files.readString(out.resolve("port")).strip());
            assertThat(hostPort).isNotEqualTo(9400);
            assertThat(Files.readString(out.resolve("ip")).strip()).isEqualTo(p.getStatus().getPodIP());
            // Stand in for the process's server on its host port; talk to it at podIP:9400.
            try (var server = new java.net.ServerSocket(hostPort);
                 var socket = new java.net.Socket(p.getStatus().getPodIP(), 9400)) {
                socket.setSoTimeout(5000);
                try (var accepted = server.accept()) {
                    socket.getOutputStream().write("ping\n".getBytes());
                    socket.getOutputStream().flush();
                    byte[] got = new byte[5];
                    assertThat(accepted.getInputStream().readNBytes(got, 0, 5)).isEqualTo(5);
                    assertThat(new String(got)).isEqualTo("ping\n");
                    accepted.getOutputStream().write("pong\n".getBytes());
                    accepted.getOutputStream().flush();
                    assertThat(new String(socket.getInputStream().readNBytes(5))).isEqualTo("pong\n");
                }
            }
            client.pods().inNamespace(ns).withName(p.getMetadata().getName()).delete();
        }
        for (Pod p : List.of(a, b)) {
            lastSeen(client, p.getMetadata().getName());
            // The forwarder went with the pod.
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                try (var s = new java.net.Socket()) {
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.connect(
                            new java.net.InetSocketAddress(p.getStatus().getPodIP(), 9400), 1000))
                            .isInstanceOf(java.io.IOException.class);
                }
            });
        }
    }

    @Test
    void evictionMakesTheProcessReceiveSigtermWithinASecond(KubernetesClient client) throws Exception {
        // $$$$: Kubernetes reduces $$ to $ in command and args, so the shell sees $$ (its pid).
        Pod pod = new PodBuilder(pod("evicted", """
                trap 'date +%s%N > /signals/term; exit 143' TERM
                echo $$$$ > /signals/pid
                sleep 300 & wait
                """, 30)).editSpec().addNewVolume().withName("signals").withNewEmptyDir().endEmptyDir().endVolume()
                .editFirstContainer().addNewVolumeMount().withName("signals").withMountPath("/signals").endVolumeMount()
                .endContainer().endSpec().build();
        client.pods().inNamespace(ns).resource(pod).create();
        awaitPhase(client, "evicted", "Running");
        Path signals = kubelet.hostPath(ns, "evicted", "/signals").orElseThrow();
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(signals.resolve("pid"))
                && !Files.readString(signals.resolve("pid")).isBlank());
        // The pid the shell sees is the process the stand-in signals (setsid execs in place).
        assertThat(Long.parseLong(Files.readString(signals.resolve("pid")).strip()))
                .isEqualTo(kubelet.process(ns, "evicted").orElseThrow().pid());

        long evictedAt = System.currentTimeMillis();
        assertThat(kubelet.evict(ns, "evicted")).isTrue();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(20))
                .until(() -> Files.exists(signals.resolve("term")) && !Files.readString(signals.resolve("term")).isBlank());
        long signalledAt = Long.parseLong(Files.readString(signals.resolve("term")).strip()) / 1_000_000;
        System.out.printf("[stand-in-kubelet] eviction call to SIGTERM in the process: %d ms%n", signalledAt - evictedAt);
        assertThat(signalledAt - evictedAt).as("ms from the eviction call to SIGTERM in the process").isBetween(0L, 1000L);

        Pod last = lastSeen(client, "evicted");
        PodCondition disruption = condition(last, "DisruptionTarget").orElseThrow();
        assertThat(disruption.getStatus()).isEqualTo("True");
        assertThat(disruption.getReason()).isEqualTo("EvictionByEvictionAPI");
        assertThat(last.getStatus().getPhase()).isEqualTo("Failed");
        assertThat(terminated(last).getExitCode()).isEqualTo(143);
    }

    @Test
    void preemptionEndsInSigkillAfterTheGracePeriod(KubernetesClient client) {
        client.pods().inNamespace(ns).resource(pod("stubborn", "trap '' TERM; while true; do sleep 0.2; done", 2)).create();
        awaitPhase(client, "stubborn", "Running");
        ProcessHandle process = kubelet.process(ns, "stubborn").orElseThrow();
        long t0 = System.nanoTime();
        kubelet.preempt(ns, "stubborn");
        Pod last = lastSeen(client, "stubborn");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).as("removal waits for the 2 s grace period").isBetween(1900L, 10_000L);
        assertThat(process.isAlive()).isFalse();
        assertThat(terminated(last).getExitCode()).isEqualTo(137);
        assertThat(condition(last, "DisruptionTarget").orElseThrow().getReason()).isEqualTo("PreemptionByScheduler");
    }

    @Test
    void podsThatCannotRunSayWhy(KubernetesClient client) {
        Pod greedy = new PodBuilder(pod("greedy", "exit 0", 30)).editSpec().editFirstContainer().editResources()
                .addToLimits(StandInKubelet.GPU, new Quantity("16")).endResources().endContainer().endSpec().build();
        client.pods().inNamespace(ns).resource(greedy).create();
        Pod noImage = new PodBuilder(pod("no-entrypoint", "exit 0", 30)).editSpec().editFirstContainer()
                .withCommand().withImage("registry.example/unknown:1").endContainer().endSpec().build();
        client.pods().inNamespace(ns).resource(noImage).create();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            Pod p = client.pods().inNamespace(ns).withName("greedy").get();
            PodCondition scheduled = condition(p, "PodScheduled").orElseThrow();
            assertThat(scheduled.getStatus()).isEqualTo("False");
            assertThat(scheduled.getReason()).isEqualTo("Unschedulable");
            assertThat(scheduled.getMessage()).contains("Insufficient nvidia.com/gpu");
            Pod q = client.pods().inNamespace(ns).withName("no-entrypoint").get();
            assertThat(q.getStatus().getPhase()).isEqualTo("Pending");
            assertThat(q.getStatus().getContainerStatuses().get(0).getState().getWaiting().getReason())
                    .isEqualTo("ErrImagePull");
        });
        client.pods().inNamespace(ns).withName("greedy").delete();
        client.pods().inNamespace(ns).withName("no-entrypoint").delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> client.pods().inNamespace(ns).withName("no-entrypoint").get() == null
                && client.pods().inNamespace(ns).withName("greedy").get() == null);
    }
}
