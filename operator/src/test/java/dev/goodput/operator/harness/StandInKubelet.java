package dev.goodput.operator.harness;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.policy.v1.EvictionBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A test fixture that <b>stands in for a kube-scheduler and a kubelet</b>, which cannot run here (no container
 * runtime, no root). It lets the operator be tested against a real kube-apiserver with real processes:
 *
 * <ul>
 *   <li><b>Node</b>: registers one Node with {@code nvidia.com/gpu} capacity (plus cpu, memory, pods) and a Ready
 *       condition.</li>
 *   <li><b>Scheduling</b>: binds pending pods of the watched namespaces (default scheduler only) to that node through
 *       the Binding subresource, if their nodeSelector matches the node's labels, their claims exist and enough GPUs
 *       are free; otherwise it sets {@code PodScheduled=False/Unschedulable} with a message, like the scheduler.</li>
 *   <li><b>Running</b>: starts the pod's <em>first</em> container as a local process: {@code command + args} when the
 *       pod has a command, otherwise the entrypoint registered for its image with {@link Builder#image} followed by
 *       {@code args}; an image with neither gets {@code ErrImagePull}. Environment: the container's {@code env}
 *       (plain values, {@code $(VAR)} references, fieldRef to metadata.name/namespace/uid/labels, spec.nodeName,
 *       status.podIP, configMapKeyRef, secretKeyRef) and {@code envFrom}, on top of the host's PATH, HOME, JAVA_HOME,
 *       LANG, TMPDIR. Output goes to {@code <podDir>/<container>.log}. Each process runs in its own session
 *       ({@code setsid}), so the whole tree can be killed like a container's.</li>
 *   <li><b>Volumes</b>: every volume is a folder: emptyDir under the pod folder; configMap/secret filled with their
 *       keys (or items; an optional configMap that is missing is an empty folder); a persistentVolumeClaim is {@code <workDir>/claims/<namespace>/<claim>} and <em>outlives the
 *       pod</em>, so a new pod of the same job sees its checkpoints; hostPath is the host path itself. Mounts are not
 *       namespaces: the stand-in <b>rewrites paths</b> instead. Every occurrence of a mount path (as a whole path
 *       prefix) in command, args, env values and workingDir becomes the folder, and the container's
 *       {@code terminationMessagePath} (default /dev/termination-log) becomes {@code <podDir>/termination-log}. A
 *       program that hard-codes a path elsewhere will not find it. readOnly is not enforced.</li>
 *   <li><b>Network</b>: processes share the host's ports, so ports are <b>rewritten</b> too. Each pod gets its own
 *       loopback address (127.100.0.1 and up; status.podIP), each TCP {@code containerPort} of the container a free
 *       host port, and an env value that is exactly a container port (e.g. {@code GOODPUT_METRICS_PORT=9400}) becomes
 *       that host port. A forwarder listens on {@code podIP:containerPort} and relays to it, so a client reaches
 *       {@code http://<podIP>:9400/} as on a cluster (the operator polls the trainer's /progress that way). It stops
 *       when the process exits.</li>
 *   <li><b>Status</b>, patched like a kubelet (strategic merge on the status subresource): Pending + waiting
 *       ContainerCreating, then Running with Initialized/PodReadyToStartContainers/ContainersReady/Ready=True (probes
 *       are not run), the pod's podIP and hostIP 127.0.0.1, then Succeeded (exit 0) or Failed, with the container's
 *       {@code terminated} state: exitCode (128+signal when killed by one), reason Completed/Error, and the
 *       termination message read from the termination-message file (at most 4096 bytes; with
 *       FallbackToLogsOnError, the log's tail when the file is empty and the container failed).</li>
 *   <li><b>Deletion</b>: when a pod gets a deletionTimestamp, SIGTERM to the process, then SIGKILL to its session after
 *       {@code deletionGracePeriodSeconds}, then the final status, then delete with grace 0 and the pod's uid as
 *       precondition (so a successor with the same name is never hit). Finalizers are left alone: a pod with one
 *       stays, terminal, until its controller removes it (as the operator's pod-tracking finalizer does).</li>
 *   <li><b>Disruptions</b>: {@link #evict} goes through the Eviction API (policy/v1), and the apiserver itself adds
 *       {@code DisruptionTarget} (reason EvictionByEvictionAPI) before deleting; {@link #preempt} plays the scheduler
 *       (DisruptionTarget reason PreemptionByScheduler, then delete) and {@link #disrupt} any other reason
 *       (DeletionByTaintManager, TerminationByKubelet).</li>
 * </ul>
 * restartPolicy is treated as Never, init containers and other containers are ignored; a port the program takes from
 * somewhere other than an env value (a flag, a config file) is not rewritten, and such pods collide on it.
 */
public final class StandInKubelet implements AutoCloseable {
    public static final String GPU = "nvidia.com/gpu";
    /** The node's address (status.hostIP, the Node's InternalIP). */
    public static final String NODE_IP = "127.0.0.1";
    /** Pod IPs are loopback addresses 127.100.0.1 and up (all of 127.0.0.0/8 is the loopback device on Linux). */
    private static final AtomicInteger NEXT_POD_IP = new AtomicInteger((int) (ProcessHandle.current().pid() % 10_000) * 64);
    private static final int MAX_MESSAGE = 4096;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> HOST_ENV = List.of("PATH", "HOME", "JAVA_HOME", "LANG", "TMPDIR", "USER");
    private static final boolean HAS_SETSID = Files.isExecutable(Path.of("/usr/bin/setsid")) || Files.isExecutable(Path.of("/bin/setsid"));

    private final KubernetesClient client;
    private final String nodeName;
    private final Set<String> namespaces;
    private final int gpus;
    private final Map<String, String> nodeLabels;
    private final Path workDir;
    private final Map<String, List<String>> entrypoints;
    private final ScheduledExecutorService loop;
    private final List<SharedIndexInformer<Pod>> informers = new CopyOnWriteArrayList<>();
    /** Pods this stand-in has started (or tried to), by uid. Touched only on the loop thread, read anywhere. */
    private final Map<String, RunningPod> running = new ConcurrentHashMap<>();
    private final Set<String> removed = ConcurrentHashMap.newKeySet();
    private final List<Consumer<Pod>> statusListeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private StandInKubelet(Builder b) {
        this.client = b.client;
        this.nodeName = b.nodeName;
        this.namespaces = Set.copyOf(b.namespaces);
        this.gpus = b.gpus;
        this.nodeLabels = Map.copyOf(b.nodeLabels);
        this.workDir = b.workDir;
        this.entrypoints = Map.copyOf(b.entrypoints);
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "stand-in-kubelet-" + nodeName);
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder(KubernetesClient client) {
        return new Builder(client);
    }

    public static final class Builder {
        private final KubernetesClient client;
        private String nodeName = "standin-gpu-node";
        private final List<String> namespaces = new ArrayList<>();
        private int gpus = 8;
        private final Map<String, String> nodeLabels = new LinkedHashMap<>();
        private Path workDir;
        private final Map<String, List<String>> entrypoints = new LinkedHashMap<>();

        private Builder(KubernetesClient client) {
            this.client = client;
        }

        public Builder nodeName(String name) {
            this.nodeName = name;
            return this;
        }

        /** Namespaces whose pods this stand-in schedules and runs (at least one; tests use their own). */
        public Builder namespace(String namespace) {
            this.namespaces.add(namespace);
            return this;
        }

        public Builder gpus(int gpus) {
            this.gpus = gpus;
            return this;
        }

        public Builder nodeLabel(String key, String value) {
            this.nodeLabels.put(key, value);
            return this;
        }

        /** Where pod folders, logs and claims live; a temp folder when not set. */
        public Builder workDir(Path workDir) {
            this.workDir = workDir;
            return this;
        }

        /** The local command that stands in for an image's ENTRYPOINT (a pod's {@code command} overrides it). */
        public Builder image(String image, List<String> entrypoint) {
            this.entrypoints.put(image, List.copyOf(entrypoint));
            return this;
        }

        public StandInKubelet start() {
            if (namespaces.isEmpty()) {
                throw new IllegalArgumentException("name at least one namespace");
            }
            try {
                if (workDir == null) {
                    workDir = Files.createTempDirectory("stand-in-kubelet");
                }
                Files.createDirectories(workDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            StandInKubelet k = new StandInKubelet(this);
            k.registerNode();
            k.watch();
            return k;
        }
    }

    // ---------------------------------------------------------------- public API for tests

    public String nodeName() {
        return nodeName;
    }

    public Path workDir() {
        return workDir;
    }

    /** The folder a pod's container sees at {@code mountPath}, once the pod has been started. */
    public Optional<Path> hostPath(String namespace, String pod, String mountPath) {
        return find(namespace, pod).map(rp -> rp.mounts.get(mountPath));
    }

    /** The folder of a started pod (logs, termination-log, emptyDirs). */
    public Optional<Path> podDir(String namespace, String pod) {
        return find(namespace, pod).map(rp -> rp.dir);
    }

    /** The local process of a started pod, if it was started. */
    public Optional<ProcessHandle> process(String namespace, String pod) {
        return find(namespace, pod).map(rp -> rp.process).map(Process::toHandle);
    }

    /** The folder that stands in for a PersistentVolumeClaim; it outlives pods. */
    public Path claimDir(String namespace, String claim) {
        return workDir.resolve("claims").resolve(namespace).resolve(claim);
    }

    /** Called (on the stand-in's thread) with each pod status the stand-in writes, the last one before removal too. */
    public void onStatusWritten(Consumer<Pod> listener) {
        statusListeners.add(listener);
    }

    /** Evicts the pod through the Eviction API (policy/v1): the apiserver adds DisruptionTarget and deletes it. */
    public boolean evict(String namespace, String pod) {
        return client.pods().inNamespace(namespace).withName(pod).evict(new EvictionBuilder()
                .withNewMetadata().withName(pod).withNamespace(namespace).endMetadata().build());
    }

    /** Plays the scheduler preempting the pod for a higher-priority one. */
    public void preempt(String namespace, String pod) {
        disrupt(namespace, pod, "PreemptionByScheduler", "stand-in scheduler: preempting to accommodate a higher priority pod");
    }

    /** Adds {@code DisruptionTarget=True} with the reason, then deletes the pod gracefully. */
    public void disrupt(String namespace, String pod, String reason, String message) {
        Map<String, Object> condition = condition("DisruptionTarget", "True", reason, message);
        patchStatus(namespace, pod, Map.of("conditions", List.of(condition)));
        client.pods().inNamespace(namespace).withName(pod).delete();
    }

    @Override
    public void close() {
        closed = true;
        informers.forEach(SharedIndexInformer::close);
        running.values().forEach(rp -> {
            if (rp.process != null) {
                killSession(rp.process, true);
            }
            rp.disconnect();
        });
        loop.shutdownNow();
        try {
            client.nodes().withName(nodeName).delete();
        } catch (KubernetesClientException ignored) {
            // the apiserver may already be gone at JVM shutdown
        }
    }

    // ---------------------------------------------------------------- node

    private void registerNode() {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("kubernetes.io/hostname", nodeName);
        labels.put("kubernetes.io/os", "linux");
        labels.put("kubernetes.io/arch", "amd64");
        labels.putAll(nodeLabels);
        Map<String, Quantity> capacity = Map.of(
                "cpu", new Quantity(String.valueOf(Runtime.getRuntime().availableProcessors())),
                "memory", new Quantity("64Gi"), "pods", new Quantity("110"), GPU, new Quantity(String.valueOf(gpus)));
        Node node = new NodeBuilder().withNewMetadata().withName(nodeName).withLabels(labels).endMetadata()
                .withNewSpec().endSpec().build();
        client.nodes().resource(node).createOr(op -> op.update());
        String now = now();
        Node withStatus = client.nodes().withName(nodeName).get();
        withStatus.setStatus(new io.fabric8.kubernetes.api.model.NodeStatusBuilder()
                .withCapacity(capacity).withAllocatable(capacity)
                .addNewCondition().withType("Ready").withStatus("True").withReason("KubeletReady")
                .withMessage("stand-in kubelet is posting ready status").withLastHeartbeatTime(now)
                .withLastTransitionTime(now).endCondition()
                .addNewAddress().withType("InternalIP").withAddress(NODE_IP).endAddress()
                .addNewAddress().withType("Hostname").withAddress(nodeName).endAddress()
                .withNewNodeInfo().withKubeletVersion("stand-in").withOperatingSystem("linux").withArchitecture("amd64")
                .withContainerRuntimeVersion("stand-in://local-processes").withKernelVersion("")
                .withOsImage("").withKubeProxyVersion("").withMachineID("").withSystemUUID("").withBootID("")
                .endNodeInfo().build());
        client.nodes().resource(withStatus).updateStatus();
    }

    // ---------------------------------------------------------------- event loop

    private void watch() {
        for (String ns : namespaces) {
            informers.add(client.pods().inNamespace(ns).inform(new ResourceEventHandler<>() {
                @Override
                public void onAdd(Pod pod) {
                    submit(() -> sync(pod.getMetadata().getNamespace(), pod.getMetadata().getName()));
                }

                @Override
                public void onUpdate(Pod old, Pod pod) {
                    submit(() -> sync(pod.getMetadata().getNamespace(), pod.getMetadata().getName()));
                }

                @Override
                public void onDelete(Pod pod, boolean unknownFinalState) {
                    submit(() -> gone(pod));
                }
            }, 0));
        }
        // Pods left Pending for lack of GPUs or claims are retried now and then, as the scheduler does.
        loop.scheduleWithFixedDelay(() -> pods().stream()
                .filter(p -> p.getSpec().getNodeName() == null && p.getMetadata().getDeletionTimestamp() == null)
                .forEach(p -> sync(p.getMetadata().getNamespace(), p.getMetadata().getName())), 1, 1, TimeUnit.SECONDS);
    }

    private void submit(Runnable r) {
        if (!closed) {
            loop.execute(() -> {
                try {
                    r.run();
                } catch (RuntimeException e) {
                    if (!closed) {
                        System.err.println("[stand-in-kubelet] " + e);
                    }
                }
            });
        }
    }

    private List<Pod> pods() {
        List<Pod> all = new ArrayList<>();
        informers.forEach(i -> all.addAll(i.getStore().list()));
        return all;
    }

    private Optional<Pod> cached(String namespace, String name) {
        return pods().stream().filter(p -> namespace.equals(p.getMetadata().getNamespace())
                && name.equals(p.getMetadata().getName())).findFirst();
    }

    private Optional<RunningPod> find(String namespace, String pod) {
        return running.values().stream().filter(rp -> rp.namespace.equals(namespace) && rp.name.equals(pod))
                .max(Comparator.comparing(rp -> rp.started));
    }

    /** Brings one pod one step closer to what its object asks for. Runs on the loop thread only. */
    private void sync(String namespace, String name) {
        Pod pod = cached(namespace, name).orElse(null);
        if (pod == null || closed) {
            return;
        }
        String uid = pod.getMetadata().getUid();
        RunningPod rp = running.get(uid);
        boolean deleting = pod.getMetadata().getDeletionTimestamp() != null;
        if (deleting) {
            if (rp == null || rp.exited) {
                remove(pod);
            } else if (!rp.terminating) {
                terminate(rp, Optional.ofNullable(pod.getMetadata().getDeletionGracePeriodSeconds()).orElse(30L));
            }
            return;
        }
        if (pod.getSpec().getNodeName() == null) {
            schedule(pod);
        } else if (nodeName.equals(pod.getSpec().getNodeName()) && rp == null && !terminal(pod)) {
            start(pod);
        }
    }

    private void gone(Pod pod) {
        removed.add(pod.getMetadata().getUid());
        RunningPod rp = running.get(pod.getMetadata().getUid());
        if (rp != null && rp.process != null && rp.process.isAlive()) {
            // Force-deleted (grace 0) while running: the container is killed at once.
            killSession(rp.process, true);
        }
        if (rp != null) {
            rp.disconnect();
        }
    }

    // ---------------------------------------------------------------- scheduling

    private void schedule(Pod pod) {
        String scheduler = pod.getSpec().getSchedulerName();
        if (scheduler != null && !scheduler.equals("default-scheduler")) {
            return;
        }
        String problem = unschedulable(pod);
        if (problem != null) {
            PodCondition current = condition(pod, "PodScheduled");
            if (current == null || !Objects.equals(current.getMessage(), problem)) {
                patchStatus(pod, Map.of("phase", "Pending",
                        "conditions", List.of(condition("PodScheduled", "False", "Unschedulable", problem))));
            }
            return;
        }
        try {
            client.bindings().inNamespace(pod.getMetadata().getNamespace()).resource(
                    new io.fabric8.kubernetes.api.model.BindingBuilder().withNewMetadata()
                            .withName(pod.getMetadata().getName()).withUid(pod.getMetadata().getUid()).endMetadata()
                            .withNewTarget().withApiVersion("v1").withKind("Node").withName(nodeName).endTarget()
                            .build()).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 409 && e.getCode() != 404) {
                throw e;
            }
        }
    }

    private String unschedulable(Pod pod) {
        Map<String, String> selector = pod.getSpec().getNodeSelector();
        Map<String, String> labels = new LinkedHashMap<>(nodeLabels);
        labels.put("kubernetes.io/hostname", nodeName);
        labels.put("kubernetes.io/os", "linux");
        labels.put("kubernetes.io/arch", "amd64");
        if (selector != null && !selector.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())))) {
            return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector.";
        }
        for (Volume v : pod.getSpec().getVolumes()) {
            if (v.getPersistentVolumeClaim() != null && client.persistentVolumeClaims()
                    .inNamespace(pod.getMetadata().getNamespace()).withName(v.getPersistentVolumeClaim().getClaimName())
                    .get() == null) {
                return "persistentvolumeclaim \"" + v.getPersistentVolumeClaim().getClaimName() + "\" not found";
            }
        }
        long used = pods().stream()
                .filter(p -> nodeName.equals(p.getSpec().getNodeName()) && !terminal(p))
                .mapToLong(StandInKubelet::gpuRequest).sum();
        if (used + gpuRequest(pod) > gpus) {
            return "0/1 nodes are available: 1 Insufficient " + GPU + ".";
        }
        return null;
    }

    static long gpuRequest(Pod pod) {
        return pod.getSpec().getContainers().stream().mapToLong(c -> {
            var r = c.getResources();
            Quantity q = r == null ? null : Optional.ofNullable(r.getLimits()).map(l -> l.get(GPU))
                    .orElse(Optional.ofNullable(r.getRequests()).map(l -> l.get(GPU)).orElse(null));
            return q == null ? 0 : q.getNumericalAmount().longValue();
        }).sum();
    }

    // ---------------------------------------------------------------- running

    private void start(Pod pod) {
        Container c = pod.getSpec().getContainers().get(0);
        String ns = pod.getMetadata().getNamespace();
        String uid = pod.getMetadata().getUid();
        RunningPod rp = new RunningPod(ns, pod.getMetadata().getName(), uid, c.getName(), c.getImage(),
                workDir.resolve("pods").resolve(ns).resolve(pod.getMetadata().getName() + "-" + uid.substring(0, 8)));
        running.put(uid, rp);
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses().isEmpty()) {
            patchStatus(pod, Map.of("phase", "Pending", "hostIP", NODE_IP, "startTime", now(),
                "conditions", List.of(condition("PodScheduled", "True", null, null),
                        condition("Initialized", "True", null, null)),
                "containerStatuses", List.of(containerStatus(rp, Map.of("waiting", Map.of("reason", "ContainerCreating")),
                        false))));
        }
        List<String> command;
        Map<String, String> env;
        try {
            Files.createDirectories(rp.dir);
            mountVolumes(pod, c, rp);
            connect(c, rp);
            rp.terminationFile = rp.dir.resolve("termination-log");
            Files.writeString(rp.terminationFile, "");
            rp.fallbackToLogs = "FallbackToLogsOnError".equals(c.getTerminationMessagePolicy());
            env = environment(pod, c, rp);
            command = command(c, env, rp);
        } catch (ContainerError e) {
            // Like a kubelet: report the waiting reason and try again (the ConfigMap or the image may come).
            running.remove(uid);
            rp.disconnect();
            var current = pod.getStatus() == null ? null : pod.getStatus().getContainerStatuses().stream()
                    .map(cs -> cs.getState() == null ? null : cs.getState().getWaiting()).filter(Objects::nonNull)
                    .findFirst().orElse(null);
            if (current == null || !e.reason.equals(current.getReason()) || !e.getMessage().equals(current.getMessage())) {
                patchStatus(pod, Map.of("containerStatuses", List.of(containerStatus(rp,
                        Map.of("waiting", Map.of("reason", e.reason, "message", e.getMessage())), false))));
            }
            loop.schedule(() -> sync(ns, pod.getMetadata().getName()), 1, TimeUnit.SECONDS);
            return;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> argv = new ArrayList<>();
        if (HAS_SETSID) {
            argv.add("setsid");
        }
        argv.addAll(command);
        ProcessBuilder pb = new ProcessBuilder(argv)
                .directory(Optional.ofNullable(c.getWorkingDir()).map(w -> Path.of(rewrite(w, rp))).orElse(rp.dir).toFile())
                .redirectErrorStream(true)
                .redirectOutput(rp.dir.resolve(c.getName() + ".log").toFile());
        pb.environment().clear();
        pb.environment().putAll(env);
        rp.started = Instant.now();
        try {
            rp.process = pb.start();
        } catch (IOException e) {
            rp.exited = true;
            rp.disconnect();
            Map<String, Object> terminated = Map.of("exitCode", 128, "reason", "StartError", "message",
                    String.valueOf(e.getMessage()), "startedAt", now(), "finishedAt", now());
            patchStatus(pod, Map.of("phase", "Failed", "conditions", notReady("PodFailed"),
                    "containerStatuses", List.of(containerStatus(rp, Map.of("terminated", terminated, "waiting", NULL), false))));
            return;
        }
        rp.startedAt = now();
        Map<String, Object> runningState = new LinkedHashMap<>();
        runningState.put("running", Map.of("startedAt", rp.startedAt));
        runningState.put("waiting", null);
        patchStatus(pod, Map.of("phase", "Running", "podIP", rp.podIP, "podIPs", List.of(Map.of("ip", rp.podIP)),
                "conditions", List.of(condition("PodReadyToStartContainers", "True", null, null),
                        condition("ContainersReady", "True", null, null), condition("Ready", "True", null, null)),
                "containerStatuses", List.of(containerStatus(rp, runningState, true))));
        rp.process.onExit().thenRun(() -> submit(() -> exited(rp)));
    }

    private void exited(RunningPod rp) {
        rp.exited = true;
        rp.disconnect();
        int code = rp.process.exitValue();
        killSession(rp.process, true); // what is left of the process tree goes with it, as with a container
        Optional<Pod> pod = cached(rp.namespace, rp.name).filter(p -> rp.uid.equals(p.getMetadata().getUid()));
        if (pod.isEmpty() || removed.contains(rp.uid)) {
            return;
        }
        String message = terminationMessage(rp, code);
        Map<String, Object> terminated = new LinkedHashMap<>();
        terminated.put("exitCode", code);
        if (code > 128 && rp.signalled) {
            terminated.put("signal", code - 128);
        }
        terminated.put("reason", code == 0 ? "Completed" : "Error");
        if (!message.isEmpty()) {
            terminated.put("message", message);
        }
        terminated.put("startedAt", rp.startedAt);
        terminated.put("finishedAt", now());
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("terminated", terminated);
        state.put("running", null);
        String phase = code == 0 ? "Succeeded" : "Failed";
        patchStatus(pod.get(), Map.of("phase", phase, "conditions", notReady(code == 0 ? "PodCompleted" : "PodFailed"),
                "containerStatuses", List.of(containerStatus(rp, state, false))));
        if (pod.get().getMetadata().getDeletionTimestamp() != null || rp.terminating) {
            remove(pod.get());
        }
    }

    private void terminate(RunningPod rp, long graceSeconds) {
        rp.terminating = true;
        rp.signalled = true;
        if (rp.process == null || !rp.process.isAlive()) {
            return;
        }
        rp.process.toHandle().destroy(); // SIGTERM to the container's main process, as the runtime does
        loop.schedule(() -> {
            if (rp.process.isAlive()) {
                killSession(rp.process, true);
            }
        }, Math.max(0, graceSeconds), TimeUnit.SECONDS);
    }

    /** The last step of a pod's deletion: the kubelet's delete with grace 0, guarded by uid. */
    private void remove(Pod pod) {
        String uid = pod.getMetadata().getUid();
        if (!removed.add(uid)) {
            return;
        }
        String body = "{\"kind\":\"DeleteOptions\",\"apiVersion\":\"v1\",\"gracePeriodSeconds\":0,"
                + "\"preconditions\":{\"uid\":\"" + uid + "\"}}";
        try {
            client.raw(client.getMasterUrl().toString().replaceAll("/$", "") + "/api/v1/namespaces/"
                    + pod.getMetadata().getNamespace() + "/pods/" + pod.getMetadata().getName(), "DELETE", body);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404 && e.getCode() != 409) {
                removed.remove(uid);
                throw e;
            }
        }
    }

    private static void killSession(Process p, boolean force) {
        // setsid made the process a session and group leader: kill the group, then the process itself.
        if (HAS_SETSID) {
            try {
                new ProcessBuilder("kill", force ? "-KILL" : "-TERM", "--", "-" + p.pid())
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start()
                        .waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                // fall through to the JDK
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        p.descendants().forEach(force ? ProcessHandle::destroyForcibly : ProcessHandle::destroy);
        if (force) {
            p.destroyForcibly();
        } else {
            p.destroy();
        }
    }

    private String terminationMessage(RunningPod rp, int code) {
        try {
            String text = readCapped(rp.terminationFile);
            if (text.isEmpty() && code != 0 && rp.fallbackToLogs) {
                Path log = rp.dir.resolve(rp.container + ".log");
                List<String> lines = Files.exists(log) ? Files.readAllLines(log) : List.of();
                text = String.join("\n", lines.subList(Math.max(0, lines.size() - 80), lines.size()));
                if (text.length() > 2048) {
                    text = text.substring(text.length() - 2048);
                }
            }
            return text;
        } catch (IOException e) {
            return "";
        }
    }

    private static String readCapped(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        byte[] bytes = Files.readAllBytes(file);
        int n = Math.min(bytes.length, MAX_MESSAGE);
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    // ---------------------------------------------------------------- volumes, env, command

    private void mountVolumes(Pod pod, Container c, RunningPod rp) throws IOException {
        String ns = pod.getMetadata().getNamespace();
        Map<String, Path> volumes = new LinkedHashMap<>();
        for (Volume v : pod.getSpec().getVolumes()) {
            Path dir;
            if (v.getPersistentVolumeClaim() != null) {
                dir = claimDir(ns, v.getPersistentVolumeClaim().getClaimName());
            } else if (v.getHostPath() != null) {
                dir = Path.of(v.getHostPath().getPath());
            } else {
                dir = rp.dir.resolve("volumes").resolve(v.getName());
            }
            Files.createDirectories(dir);
            if (v.getConfigMap() != null) {
                ConfigMap cm = client.configMaps().inNamespace(ns).withName(v.getConfigMap().getName()).get();
                if (cm == null && Boolean.TRUE.equals(v.getConfigMap().getOptional())) {
                    cm = new ConfigMap(); // like a kubelet: an optional ConfigMap that is missing is an empty folder
                }
                if (cm == null) {
                    throw new ContainerError("ContainerCreating",
                            "MountVolume.SetUp failed for volume \"" + v.getName() + "\" : configmap \""
                                    + v.getConfigMap().getName() + "\" not found");
                }
                Map<String, byte[]> data = new LinkedHashMap<>();
                Optional.ofNullable(cm.getData()).orElse(Map.of())
                        .forEach((k, s) -> data.put(k, s.getBytes(StandardCharsets.UTF_8)));
                Optional.ofNullable(cm.getBinaryData()).orElse(Map.of())
                        .forEach((k, s) -> data.put(k, Base64.getDecoder().decode(s)));
                writeKeys(dir, data, v.getConfigMap().getItems());
            } else if (v.getSecret() != null) {
                Secret s = client.secrets().inNamespace(ns).withName(v.getSecret().getSecretName()).get();
                if (s == null) {
                    throw new ContainerError("ContainerCreating",
                            "MountVolume.SetUp failed for volume \"" + v.getName() + "\" : secret \""
                                    + v.getSecret().getSecretName() + "\" not found");
                }
                Map<String, byte[]> data = new LinkedHashMap<>();
                Optional.ofNullable(s.getData()).orElse(Map.of())
                        .forEach((k, b) -> data.put(k, Base64.getDecoder().decode(b)));
                Optional.ofNullable(s.getStringData()).orElse(Map.of())
                        .forEach((k, b) -> data.put(k, b.getBytes(StandardCharsets.UTF_8)));
                writeKeys(dir, data, v.getSecret().getItems());
            }
            volumes.put(v.getName(), dir);
        }
        for (VolumeMount m : Optional.ofNullable(c.getVolumeMounts()).orElse(List.of())) {
            Path dir = volumes.get(m.getName());
            if (dir == null) {
                throw new ContainerError("CreateContainerConfigError", "volume \"" + m.getName() + "\" not found");
            }
            if (m.getSubPath() != null && !m.getSubPath().isEmpty()) {
                dir = dir.resolve(m.getSubPath());
            }
            rp.mounts.put(strip(m.getMountPath()), dir);
        }
        String tmp = Optional.ofNullable(c.getTerminationMessagePath()).orElse("/dev/termination-log");
        rp.terminationPath = tmp;
    }

    private static void writeKeys(Path dir, Map<String, byte[]> data, List<KeyToPath> items) throws IOException {
        if (items == null || items.isEmpty()) {
            for (var e : data.entrySet()) {
                Files.write(dir.resolve(e.getKey()), e.getValue());
            }
        } else {
            for (KeyToPath item : items) {
                byte[] bytes = data.get(item.getKey());
                if (bytes != null) {
                    Path target = dir.resolve(item.getPath());
                    Files.createDirectories(target.getParent());
                    Files.write(target, bytes);
                }
            }
        }
    }

    private Map<String, String> environment(Pod pod, Container c, RunningPod rp) {
        Map<String, String> env = new LinkedHashMap<>();
        HOST_ENV.forEach(k -> Optional.ofNullable(System.getenv(k)).ifPresent(v -> env.put(k, v)));
        env.put("HOSTNAME", pod.getMetadata().getName());
        String ns = pod.getMetadata().getNamespace();
        for (EnvFromSource from : Optional.ofNullable(c.getEnvFrom()).orElse(List.of())) {
            String prefix = Optional.ofNullable(from.getPrefix()).orElse("");
            if (from.getConfigMapRef() != null) {
                ConfigMap cm = client.configMaps().inNamespace(ns).withName(from.getConfigMapRef().getName()).get();
                if (cm == null && !Boolean.TRUE.equals(from.getConfigMapRef().getOptional())) {
                    throw new ContainerError("CreateContainerConfigError",
                            "configmap \"" + from.getConfigMapRef().getName() + "\" not found");
                }
                if (cm != null && cm.getData() != null) {
                    cm.getData().forEach((k, v) -> env.put(prefix + k, v));
                }
            }
            if (from.getSecretRef() != null) {
                Secret s = client.secrets().inNamespace(ns).withName(from.getSecretRef().getName()).get();
                if (s == null && !Boolean.TRUE.equals(from.getSecretRef().getOptional())) {
                    throw new ContainerError("CreateContainerConfigError",
                            "secret \"" + from.getSecretRef().getName() + "\" not found");
                }
                if (s != null && s.getData() != null) {
                    s.getData().forEach((k, v) -> env.put(prefix + k,
                            new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
                }
            }
        }
        for (EnvVar e : Optional.ofNullable(c.getEnv()).orElse(List.of())) {
            String value;
            if (e.getValueFrom() == null) {
                value = expand(Optional.ofNullable(e.getValue()).orElse(""), env);
            } else if (e.getValueFrom().getFieldRef() != null) {
                value = fieldRef(pod, rp, e.getValueFrom().getFieldRef().getFieldPath());
            } else if (e.getValueFrom().getConfigMapKeyRef() != null) {
                var ref = e.getValueFrom().getConfigMapKeyRef();
                ConfigMap cm = client.configMaps().inNamespace(ns).withName(ref.getName()).get();
                value = cm == null || cm.getData() == null ? null : cm.getData().get(ref.getKey());
                if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
                    throw new ContainerError("CreateContainerConfigError",
                            "couldn't find key " + ref.getKey() + " in ConfigMap " + ns + "/" + ref.getName());
                }
            } else if (e.getValueFrom().getSecretKeyRef() != null) {
                var ref = e.getValueFrom().getSecretKeyRef();
                Secret s = client.secrets().inNamespace(ns).withName(ref.getName()).get();
                String b64 = s == null || s.getData() == null ? null : s.getData().get(ref.getKey());
                value = b64 == null ? null : new String(Base64.getDecoder().decode(b64), StandardCharsets.UTF_8);
                if (value == null && !Boolean.TRUE.equals(ref.getOptional())) {
                    throw new ContainerError("CreateContainerConfigError",
                            "couldn't find key " + ref.getKey() + " in Secret " + ns + "/" + ref.getName());
                }
            } else {
                throw new ContainerError("CreateContainerConfigError",
                        "env " + e.getName() + ": only value, fieldRef, configMapKeyRef and secretKeyRef are supported by the stand-in kubelet");
            }
            if (value != null) {
                env.put(e.getName(), rewritePort(rewrite(value, rp), rp));
            }
        }
        return env;
    }

    private static String fieldRef(Pod pod, RunningPod rp, String path) {
        Matcher label = Pattern.compile("metadata\\.(labels|annotations)\\['(.+)'\\]").matcher(path);
        if (label.matches()) {
            Map<String, String> map = label.group(1).equals("labels") ? pod.getMetadata().getLabels()
                    : pod.getMetadata().getAnnotations();
            return map == null ? "" : map.getOrDefault(label.group(2), "");
        }
        return switch (path) {
            case "metadata.name" -> pod.getMetadata().getName();
            case "metadata.namespace" -> pod.getMetadata().getNamespace();
            case "metadata.uid" -> pod.getMetadata().getUid();
            case "spec.nodeName" -> pod.getSpec().getNodeName();
            case "spec.serviceAccountName" -> Optional.ofNullable(pod.getSpec().getServiceAccountName()).orElse("default");
            case "status.podIP" -> rp.podIP;
            case "status.hostIP" -> NODE_IP;
            default -> throw new ContainerError("CreateContainerConfigError", "unsupported fieldRef " + path);
        };
    }

    private List<String> command(Container c, Map<String, String> env, RunningPod rp) {
        List<String> cmd = new ArrayList<>();
        if (c.getCommand() != null && !c.getCommand().isEmpty()) {
            c.getCommand().forEach(s -> cmd.add(rewrite(expand(s, env), rp)));
        } else if (entrypoints.containsKey(c.getImage())) {
            cmd.addAll(entrypoints.get(c.getImage()));
        } else {
            throw new ContainerError("ErrImagePull", "stand-in kubelet: no local entrypoint for image \"" + c.getImage()
                    + "\" and the container has no command");
        }
        Optional.ofNullable(c.getArgs()).orElse(List.of()).forEach(s -> cmd.add(rewrite(expand(s, env), rp)));
        return cmd;
    }

    /** Kubernetes' $(VAR) expansion; $$(VAR) stays literal as $(VAR); unknown references are left as they are. */
    static String expand(String s, Map<String, String> env) {
        Matcher m = Pattern.compile("\\$\\$|\\$\\(([A-Za-z_][A-Za-z0-9_.-]*)\\)").matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String rep;
            if (m.group().equals("$$")) {
                rep = "$";
            } else {
                rep = env.containsKey(m.group(1)) ? env.get(m.group(1)) : m.group();
            }
            m.appendReplacement(out, Matcher.quoteReplacement(rep));
        }
        m.appendTail(out);
        return out.toString();
    }

    /**
     * Rewrites container paths (mount paths, the termination-message path) into their host folders, in one pass so
     * that a host folder is never rewritten again (a mount at /tmp must not touch /tmp/stand-in-kubelet/...).
     */
    static String rewrite(String s, RunningPod rp) {
        Map<String, Path> all = new LinkedHashMap<>(rp.mounts);
        if (rp.terminationPath != null) {
            all.put(rp.terminationPath, rp.terminationFile);
        }
        if (all.isEmpty()) {
            return s;
        }
        List<String> keys = new ArrayList<>(all.keySet());
        keys.sort(Comparator.comparingInt(String::length).reversed());
        String alternatives = keys.stream().map(Pattern::quote).collect(java.util.stream.Collectors.joining("|"));
        Pattern p = Pattern.compile("(?<![A-Za-z0-9_.\\-/])(" + alternatives + ")(?=/|$|[^A-Za-z0-9_.\\-])");
        Matcher m = p.matcher(s);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(out, Matcher.quoteReplacement(all.get(m.group(1)).toString()));
        }
        m.appendTail(out);
        return out.toString();
    }

    private static String strip(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    // ---------------------------------------------------------------- network

    /**
     * Gives the pod a network of sorts. Pods are processes of the host, so they share its ports: two trainers told to
     * listen on 9400 would collide. Instead each pod gets its own loopback address (its status.podIP) and each of the
     * container's TCP {@code containerPort}s a free host port; an env value that is exactly the container port (such
     * as {@code GOODPUT_METRICS_PORT=9400}) is rewritten to that host port, and a forwarder listens on
     * {@code podIP:containerPort} and relays to it. So {@code http://<podIP>:9400/} reaches this pod's process, as
     * on a cluster, whatever port the process actually listens on.
     */
    private void connect(Container c, RunningPod rp) throws IOException {
        List<Integer> ports = Optional.ofNullable(c.getPorts()).orElse(List.of()).stream()
                .filter(p -> p.getProtocol() == null || "TCP".equals(p.getProtocol()))
                .map(io.fabric8.kubernetes.api.model.ContainerPort::getContainerPort).filter(Objects::nonNull)
                .distinct().toList();
        for (int port : ports) {
            rp.ports.put(port, freePort());
        }
        for (int tries = 0; tries < 64; tries++) {
            String ip = nextPodIp();
            try {
                for (int port : ports) {
                    rp.forwards.add(new PortForward(ip, port, rp.ports.get(port)));
                }
                rp.podIP = ip;
                return;
            } catch (BindException e) {
                rp.disconnect(); // taken (another stand-in, in this JVM or another): the next address
            }
        }
        throw new ContainerError("CreateContainerError", "stand-in kubelet: no free loopback address for ports " + ports);
    }

    static String nextPodIp() {
        int n = Math.floorMod(NEXT_POD_IP.getAndIncrement(), 100 * 254 * 254);
        return "127." + (100 + n / (254 * 254)) + "." + (1 + (n / 254) % 254) + "." + (1 + n % 254);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** An env value that is exactly one of the container's ports becomes the host port it was mapped to. */
    static String rewritePort(String value, RunningPod rp) {
        try {
            Integer host = rp.ports.get(Integer.parseInt(value.strip()));
            return host == null ? value : String.valueOf(host);
        } catch (NumberFormatException e) {
            return value;
        }
    }

    /** Relays TCP connections from {@code podIP:containerPort} to {@code 127.0.0.1:hostPort}. */
    static final class PortForward implements AutoCloseable {
        private final ServerSocket server;
        private final int target;
        private final Set<Socket> open = ConcurrentHashMap.newKeySet();
        private volatile boolean closed;

        PortForward(String ip, int port, int target) throws IOException {
            this.target = target;
            server = new ServerSocket();
            try {
                server.setReuseAddress(true);
                server.bind(new InetSocketAddress(InetAddress.getByName(ip), port), 50);
            } catch (IOException e) {
                server.close();
                throw e;
            }
            daemon("stand-in-forward-" + ip + ":" + port, this::accept);
        }

        private void accept() {
            while (!closed) {
                try {
                    Socket in = server.accept();
                    daemon("stand-in-forward-conn", () -> relay(in));
                } catch (IOException e) {
                    return; // closed
                }
            }
        }

        private void relay(Socket in) {
            Socket out = new Socket();
            open.add(in);
            open.add(out);
            try {
                out.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), target), 1000);
                daemon("stand-in-forward-back", () -> copy(out, in));
                copy(in, out);
            } catch (IOException e) {
                closeQuietly(in, out); // nothing listens (yet): the client sees the connection reset
            }
        }

        /** Copies one direction; when either side ends, both sockets close (enough for HTTP). */
        private void copy(Socket from, Socket to) {
            try {
                from.getInputStream().transferTo(to.getOutputStream());
            } catch (IOException ignored) {
                // the other direction closed them
            } finally {
                closeQuietly(from, to);
            }
        }

        private void closeQuietly(Socket... sockets) {
            for (Socket s : sockets) {
                open.remove(s);
                try {
                    s.close();
                } catch (IOException ignored) {
                    // closing
                }
            }
        }

        private static void daemon(String name, Runnable r) {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() {
            closed = true;
            try {
                server.close();
            } catch (IOException ignored) {
                // closing
            }
            open.forEach(s -> closeQuietly(s));
        }
    }

    // ---------------------------------------------------------------- status

    private static final Object NULL = new Object() {
        @Override
        public String toString() {
            return "null";
        }
    };

    private Map<String, Object> containerStatus(RunningPod rp, Map<String, Object> state, boolean ready) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("name", rp.container);
        s.put("image", rp.image);
        s.put("imageID", "stand-in://" + rp.image);
        if (rp.process != null) {
            s.put("containerID", "stand-in://" + rp.process.pid());
        }
        s.put("ready", ready);
        s.put("started", state.get("running") != null);
        s.put("restartCount", 0);
        Map<String, Object> st = new LinkedHashMap<>();
        state.forEach((k, v) -> st.put(k, v == NULL ? null : v));
        s.put("state", st);
        return s;
    }

    private static List<Map<String, Object>> notReady(String reason) {
        return List.of(condition("ContainersReady", "False", reason, null), condition("Ready", "False", reason, null),
                condition("PodReadyToStartContainers", "False", null, null));
    }

    private static Map<String, Object> condition(String type, String status, String reason, String message) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("type", type);
        c.put("status", status);
        if (reason != null) {
            c.put("reason", reason);
        }
        if (message != null) {
            c.put("message", message);
        }
        c.put("lastTransitionTime", now());
        c.put("lastProbeTime", null);
        return c;
    }

    private static PodCondition condition(Pod pod, String type) {
        return pod.getStatus() == null ? null : pod.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType())).findFirst().orElse(null);
    }

    private void patchStatus(Pod pod, Map<String, Object> status) {
        patchStatus(pod.getMetadata().getNamespace(), pod.getMetadata().getName(), status);
    }

    /** A strategic-merge patch of the status subresource, as the kubelet sends: conditions merge by type. */
    private void patchStatus(String namespace, String name, Map<String, Object> status) {
        try {
            String patch = JSON.writeValueAsString(Map.of("status", status));
            Pod written = client.pods().inNamespace(namespace).withName(name).subresource("status")
                    .patch(PatchContext.of(PatchType.STRATEGIC_MERGE), patch);
            statusListeners.forEach(l -> l.accept(written));
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static boolean terminal(Pod p) {
        String phase = p.getStatus() == null ? null : p.getStatus().getPhase();
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    private static String now() {
        return Instant.now().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    private static final class ContainerError extends RuntimeException {
        final String reason;

        ContainerError(String reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    /** What the stand-in knows of a pod it started. */
    static final class RunningPod {
        final String namespace;
        final String name;
        final String uid;
        final String container;
        final String image;
        final Path dir;
        final Map<String, Path> mounts = new LinkedHashMap<>();
        volatile Instant started = Instant.now();
        volatile Process process;
        volatile String startedAt;
        volatile String terminationPath;
        volatile Path terminationFile;
        volatile boolean fallbackToLogs;
        volatile boolean terminating;
        volatile boolean signalled;
        volatile boolean exited;
        /** The pod's own loopback address (status.podIP). */
        volatile String podIP = NODE_IP;
        /** containerPort → the host port the process was told to listen on instead. */
        final Map<Integer, Integer> ports = new LinkedHashMap<>();
        final List<PortForward> forwards = new CopyOnWriteArrayList<>();

        void disconnect() {
            forwards.forEach(PortForward::close);
            forwards.clear();
        }

        RunningPod(String namespace, String name, String uid, String container, String image, Path dir) {
            this.namespace = namespace;
            this.name = name;
            this.uid = uid;
            this.container = container;
            this.image = image;
            this.dir = dir;
        }
    }
}
