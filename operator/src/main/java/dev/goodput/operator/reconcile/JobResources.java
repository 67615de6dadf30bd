package dev.goodput.operator.reconcile;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ManifestReader;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.spec.ResourcesSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.operator.Labels;
import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.observe.JobObserver;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.ContainerPortBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyBuilder;
import io.fabric8.kubernetes.api.model.Toleration;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The desired objects of a TrainingJob, as pure functions of the job (and the attempt): the ConfigMap holding
 * {@code job.yaml}, the checkpoint claim the operator creates when the spec names none, the trainer Pod of each rank
 * (mounts, GOODPUT_* and rank environment, metrics port, termination message; hardened security context; the
 * pod-tracking finalizer {@link Labels#POD_FINALIZER}), and for a job with several workers the headless Service and
 * NetworkPolicy of their rendezvous.
 * Being deterministic, applying them twice (server-side apply) changes nothing.
 */
public final class JobResources {
    public static final String CONFIG_DIR = "/etc/goodput";
    public static final String JOB_FILE = "job.yaml";
    public static final String CHECKPOINT_DIR = "/checkpoints";
    /** The namespace's shared tuning results (key → micro-batch), mounted optional and read-only into every trainer. */
    public static final String TUNING_CACHE = "goodput-tuning-cache";
    /** A sibling of the config mount, not inside it: a mount point inside a read-only ConfigMap volume can fail. */
    public static final String TUNING_CACHE_DIR = "/etc/goodput-tuning-cache";
    /** managed-by label of the tuning cache: it belongs to no job and outlives them all. */
    public static final String TUNING_CACHE_MANAGED_BY = "goodput";
    public static final String TERMINATION_LOG = "/dev/termination-log";
    public static final int METRICS_PORT = 9400;
    /** Where rank 0's c10d TCPStore listens, the port torchrun and Kubeflow Trainer use. */
    public static final int RENDEZVOUS_PORT = 29500;
    public static final String RENDEZVOUS_PORT_NAME = "c10d";
    public static final String GPU = "nvidia.com/gpu";
    /** The non-root user and group the trainer runs as: the USER of both trainer images (trainer-image/Dockerfile*). */
    public static final long TRAINER_UID = 65532L;
    private static final ObjectMapper JSON = new ObjectMapper();

    private JobResources() {}

    public static Map<String, String> labels(TrainingJob job) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(Labels.NAME, Labels.TRAINER);
        labels.put(Labels.MANAGED_BY, Labels.OPERATOR);
        labels.put(Labels.JOB, job.getMetadata().getName());
        return labels;
    }

    public static OwnerReference owner(TrainingJob job) {
        return new OwnerReferenceBuilder().withApiVersion(job.getApiVersion()).withKind(job.getKind())
                .withName(job.getMetadata().getName()).withUid(job.getMetadata().getUid())
                .withController(true).withBlockOwnerDeletion(true).build();
    }

    /** The TrainingJob as the trainer reads it: apiVersion, kind, name/namespace/uid and the spec. */
    public static String jobYaml(TrainingJob job) {
        TrainingJobManifest m = new TrainingJobManifest();
        m.apiVersion = TrainingJobManifest.API_VERSION;
        m.kind = TrainingJobManifest.KIND;
        m.metadata.name = job.getMetadata().getName();
        m.metadata.namespace = job.getMetadata().getNamespace();
        m.metadata.uid = job.getMetadata().getUid();
        m.spec = job.getSpec();
        try {
            return ManifestReader.yaml().writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write job.yaml", e);
        }
    }

    public static ConfigMap configMap(TrainingJob job) {
        return new ConfigMapBuilder().withNewMetadata().withName(Labels.configMapName(job.getMetadata().getName()))
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels(job))
                .withOwnerReferences(owner(job)).endMetadata()
                .addToData(JOB_FILE, jobYaml(job)).build();
    }

    /**
     * One entry of the namespace's tuning cache ConfigMap {@value #TUNING_CACHE}: {@code key: "<micro>"}, labelled but
     * owned by no job (the results outlive the jobs that found them). Applied with a field manager per key
     * ({@link #tuningCacheFieldManager}), so each apply owns its entry only and never removes another.
     */
    public static ConfigMap tuningCacheEntry(String namespace, String key, int micro) {
        return new ConfigMapBuilder().withNewMetadata().withName(TUNING_CACHE).withNamespace(namespace)
                .addToLabels(Labels.MANAGED_BY, TUNING_CACHE_MANAGED_BY).endMetadata()
                .addToData(key, String.valueOf(micro)).build();
    }

    /**
     * The field manager that applies {@code key}'s entry: {@code goodput-tuning-cache/<key>} (a hash of the key when
     * that would pass the 128-character limit). One manager for all keys would drop, on each apply, the entries it
     * applied before and did not repeat; reading the ConfigMap to repeat them would need more RBAC than create/patch.
     */
    public static String tuningCacheFieldManager(String key) {
        String m = TUNING_CACHE + "/" + key;
        if (m.length() <= 128) {
            return m;
        }
        try {
            byte[] h = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(key.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return TUNING_CACHE + "/sha256-" + java.util.HexFormat.of().formatHex(h, 0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String checkpointClaim(TrainingJob job) {
        var c = job.getSpec().checkpoint;
        return c != null && c.claimName != null ? c.claimName : job.getMetadata().getName() + "-checkpoints";
    }

    /** The claim the operator creates (none when the spec names an existing one); deleted with the job. */
    public static PersistentVolumeClaim checkpointClaimToCreate(TrainingJob job, OperatorSettings settings) {
        var c = job.getSpec().checkpoint;
        if (c != null && c.claimName != null) {
            return null;
        }
        String storage = c != null && c.storage != null ? c.storage : settings.checkpointStorage();
        return new PersistentVolumeClaimBuilder().withNewMetadata().withName(checkpointClaim(job))
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels(job))
                .withOwnerReferences(owner(job)).endMetadata()
                .withNewSpec().withAccessModes("ReadWriteOnce")
                .withStorageClassName(c == null ? null : c.storageClassName)
                .withNewResources().addToRequests("storage", new Quantity(storage)).endResources()
                .endSpec().build();
    }

    /** spec.resources.workers: the pods of one attempt (1 when absent). */
    public static int workers(TrainingJobSpec spec) {
        return spec.resources == null || spec.resources.workers == null ? 1 : Math.max(1, spec.resources.workers);
    }

    /**
     * The headless Service of a job with several workers: it gives each pod of the gang the DNS name
     * {@code <pod>.<job>-workers} (the pod's hostname and subdomain), which is how the ranks find rank 0. Published
     * before the pods are Ready ({@code publishNotReadyAddresses}): the trainer is Ready only once it trains, after
     * the rendezvous this name serves. Null for one worker, which needs no rendezvous.
     */
    public static Service service(TrainingJob job) {
        if (workers(job.getSpec()) <= 1) {
            return null;
        }
        return new ServiceBuilder().withNewMetadata().withName(Labels.serviceName(job.getMetadata().getName()))
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels(job))
                .withOwnerReferences(owner(job)).endMetadata()
                .withNewSpec().withClusterIP("None").withPublishNotReadyAddresses(true)
                .withSelector(trainerPods(job))
                .addNewPort().withName(RENDEZVOUS_PORT_NAME).withPort(RENDEZVOUS_PORT).withProtocol("TCP").endPort()
                .endSpec().build();
    }

    /**
     * The NetworkPolicy of a job with several workers. It selects the job's trainer pods and lets in: the job's own
     * trainer pods, on every port (rank 0's c10d store, and the connections the process group's backend opens between
     * ranks on ports of its choosing); and anyone on the metrics port, as without a policy (Prometheus, the operator's
     * /progress polls). Nothing else reaches the pods, so no other pod can join or disturb the rendezvous. Null for one
     * worker: its pod listens on the metrics port only, and stays as open as it always was.
     */
    public static NetworkPolicy networkPolicy(TrainingJob job) {
        if (workers(job.getSpec()) <= 1) {
            return null;
        }
        Map<String, String> pods = trainerPods(job);
        return new NetworkPolicyBuilder().withNewMetadata().withName(Labels.serviceName(job.getMetadata().getName()))
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels(job))
                .withOwnerReferences(owner(job)).endMetadata()
                .withNewSpec().withNewPodSelector().withMatchLabels(pods).endPodSelector()
                .withPolicyTypes("Ingress")
                .addNewIngress().addNewFrom().withNewPodSelector().withMatchLabels(pods).endPodSelector().endFrom()
                .endIngress()
                .addNewIngress().addNewPort().withProtocol("TCP").withPort(new IntOrString(METRICS_PORT)).endPort()
                .endIngress()
                .endSpec().build();
    }

    /** The labels that select the job's trainer pods, of every attempt. */
    static Map<String, String> trainerPods(TrainingJob job) {
        return Map.of(Labels.JOB, job.getMetadata().getName(), Labels.NAME, Labels.TRAINER);
    }

    /**
     * The environment that places a pod in its gang, in the names torchrun and Kubeflow Trainer use: WORLD_SIZE, RANK,
     * NODE_RANK (torchrun's index of a node, here of the pod: its rank), LOCAL_RANK (0: one process per pod), and, for a gang, rank 0's
     * address (its DNS name in the job's headless Service, known before rank 0 has an IP) and c10d port. Since not
     * every cluster answers that name (or not before the pods start), the gang also gets a rendezvous file on its
     * shared checkpoint volume, one per attempt, where rank 0 publishes its pod IP (GOODPUT_POD_IP, from the downward
     * API) and the other ranks read it: the trainer's rendezvous then needs no DNS at all.
     */
    static List<EnvVar> rankEnv(TrainingJob job, int attempt, int rank) {
        int workers = workers(job.getSpec());
        List<EnvVar> env = new ArrayList<>(List.of(env("WORLD_SIZE", String.valueOf(workers)),
                env("RANK", String.valueOf(rank)), env("NODE_RANK", String.valueOf(rank)), env("LOCAL_RANK", "0")));
        if (workers > 1) {
            String name = job.getMetadata().getName();
            env.add(env("MASTER_ADDR", Labels.podName(name, attempt, 0, workers) + "." + Labels.serviceName(name)));
            env.add(env("MASTER_PORT", String.valueOf(RENDEZVOUS_PORT)));
            env.add(env("GOODPUT_RENDEZVOUS_FILE", CHECKPOINT_DIR + "/" + job.getMetadata().getUid() + "/c10d/attempt-" + attempt));
            env.add(new io.fabric8.kubernetes.api.model.EnvVarBuilder().withName("GOODPUT_POD_IP").withNewValueFrom()
                    .withNewFieldRef().withFieldPath("status.podIP").endFieldRef().endValueFrom().build());
        }
        return env;
    }

    /**
     * Attempt {@code attempt}'s pod of {@code rank}. With one worker it is the pod as it always was (name, labels), plus
     * WORLD_SIZE=1 and RANK=0; with several, each rank also has label {@link Labels#RANK}, the hostname and subdomain
     * that name it in the job's Service, and the c10d port.
     */
    public static Pod pod(TrainingJob job, int attempt, int rank, OperatorSettings settings) {
        TrainingJobSpec spec = job.getSpec();
        ResourcesSpec res = spec.resources == null ? new ResourcesSpec() : spec.resources;
        int workers = workers(spec);
        Map<String, String> labels = labels(job);
        labels.put(Labels.ATTEMPT, String.valueOf(attempt));
        if (workers > 1) {
            labels.put(Labels.RANK, String.valueOf(rank));
        }
        String podName = Labels.podName(job.getMetadata().getName(), attempt, rank, workers);
        String image = spec.image == null || spec.image.isBlank() ? settings.defaultImage() : spec.image;

        // Computed once: the kubelet waits this long after SIGTERM, and the trainer plans its save within it.
        long grace = GracePeriod.seconds(spec.checkpoint == null ? null : spec.checkpoint.gracePeriodSeconds,
                job.getStatus() == null ? null : job.getStatus().lastCheckpoint, settings);
        List<EnvVar> env = new ArrayList<>(List.of(
                env("GOODPUT_CHECKPOINT_DIR", CHECKPOINT_DIR),
                env("GOODPUT_GRACE_PERIOD_SECONDS", String.valueOf(grace)),
                env("GOODPUT_METRICS_PORT", String.valueOf(METRICS_PORT)),
                env("GOODPUT_JOB_UID", job.getMetadata().getUid()),
                env("GOODPUT_ATTEMPT", String.valueOf(attempt)),
                env("GOODPUT_TERMINATION_LOG", TERMINATION_LOG),
                env("GOODPUT_TUNING_CACHE", TUNING_CACHE_DIR)));
        env.addAll(rankEnv(job, attempt, rank));

        List<Volume> volumes = new ArrayList<>();
        List<VolumeMount> mounts = new ArrayList<>();
        volumes.add(new VolumeBuilder().withName("config").withNewConfigMap()
                .withName(Labels.configMapName(job.getMetadata().getName())).endConfigMap().build());
        mounts.add(new VolumeMountBuilder().withName("config").withMountPath(CONFIG_DIR).withReadOnly(true).build());
        // Optional: the namespace's first tuning creates it; until then the folder is empty and the trainer probes.
        volumes.add(new VolumeBuilder().withName("tuning-cache").withNewConfigMap().withName(TUNING_CACHE)
                .withOptional(true).endConfigMap().build());
        mounts.add(new VolumeMountBuilder().withName("tuning-cache").withMountPath(TUNING_CACHE_DIR).withReadOnly(true)
                .build());
        volumes.add(new VolumeBuilder().withName("checkpoints").withNewPersistentVolumeClaim()
                .withClaimName(checkpointClaim(job)).endPersistentVolumeClaim().build());
        mounts.add(new VolumeMountBuilder().withName("checkpoints").withMountPath(CHECKPOINT_DIR).build());
        if (spec.data != null && spec.data.claimName != null) {
            volumes.add(new VolumeBuilder().withName("data").withNewPersistentVolumeClaim()
                    .withClaimName(spec.data.claimName).withReadOnly(true).endPersistentVolumeClaim().build());
            mounts.add(new VolumeMountBuilder().withName("data").withMountPath(spec.data.path).withReadOnly(true).build());
        }
        // The root filesystem is read-only; the JVM and DJL need a scratch folder.
        volumes.add(new VolumeBuilder().withName("tmp").withNewEmptyDir().endEmptyDir().build());
        mounts.add(new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build());

        Map<String, Quantity> limits = new LinkedHashMap<>();
        Map<String, Quantity> requests = new LinkedHashMap<>();
        int gpus = res.gpus == null ? 0 : res.gpus;
        if (gpus > 0) {
            limits.put(GPU, new Quantity(String.valueOf(gpus)));
        }
        if (res.cpu != null) {
            requests.put("cpu", new Quantity(res.cpu));
        }
        if (res.memory != null) {
            requests.put("memory", new Quantity(res.memory));
            limits.put("memory", new Quantity(res.memory));
        }

        List<ContainerPort> ports = new ArrayList<>();
        ports.add(new ContainerPortBuilder().withName("metrics").withContainerPort(METRICS_PORT).withProtocol("TCP").build());
        if (workers > 1) {
            ports.add(new ContainerPortBuilder().withName(RENDEZVOUS_PORT_NAME).withContainerPort(RENDEZVOUS_PORT)
                    .withProtocol("TCP").build());
        }
        var container = new ContainerBuilder().withName(JobObserver.TRAINER_CONTAINER).withImage(image)
                .withArgs("run", CONFIG_DIR + "/" + JOB_FILE)
                .withEnv(env)
                .withPorts(ports)
                .withNewResources().withLimits(limits.isEmpty() ? null : limits)
                .withRequests(requests.isEmpty() ? null : requests).endResources()
                .withVolumeMounts(mounts)
                .withTerminationMessagePath(TERMINATION_LOG).withTerminationMessagePolicy("FallbackToLogsOnError")
                .withNewReadinessProbe().withNewHttpGet().withPath("/healthz").withNewPort(METRICS_PORT).endHttpGet()
                .withPeriodSeconds(10).withFailureThreshold(3).endReadinessProbe()
                .withNewSecurityContext().withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true)
                .withRunAsNonRoot(true).withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .build();

        return new PodBuilder().withNewMetadata().withName(podName)
                .withNamespace(job.getMetadata().getNamespace()).withLabels(labels).withOwnerReferences(owner(job))
                .withFinalizers(Labels.POD_FINALIZER)
                .endMetadata()
                .withNewSpec().withRestartPolicy("Never")
                .withHostname(workers > 1 ? podName : null)
                .withSubdomain(workers > 1 ? Labels.serviceName(job.getMetadata().getName()) : null)
                .withTerminationGracePeriodSeconds(grace)
                .withNodeSelector(nodeSelector(res, settings.scheduling()))
                .withTolerations(tolerations(res, settings.scheduling()))
                .withPriorityClassName(res.priorityClassName)
                .withAutomountServiceAccountToken(false).withEnableServiceLinks(false)
                .withNewSecurityContext().withRunAsNonRoot(true).withRunAsUser(TRAINER_UID).withRunAsGroup(TRAINER_UID)
                .withFsGroup(TRAINER_UID).withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
                .endSecurityContext()
                .withContainers(container).withVolumes(volumes)
                .endSpec().build();
    }

    /**
     * Where the pod may run: the GPU type's node label, spot capacity's selector, then the job's own nodeSelector,
     * which wins on a key they share (OperatorSettings.Scheduling).
     */
    static Map<String, String> nodeSelector(ResourcesSpec res, OperatorSettings.Scheduling scheduling) {
        Map<String, String> selector = new LinkedHashMap<>();
        if (res.gpuType != null && !res.gpuType.isBlank() && scheduling.gpuTypeNodeLabel() != null) {
            selector.put(scheduling.gpuTypeNodeLabel(), res.gpuType);
        }
        if (Boolean.TRUE.equals(res.spot)) {
            selector.putAll(scheduling.spotNodeSelector());
        }
        if (res.nodeSelector != null) {
            selector.putAll(res.nodeSelector);
        }
        return selector.isEmpty() ? null : selector;
    }

    static List<Toleration> tolerations(ResourcesSpec res, OperatorSettings.Scheduling scheduling) {
        List<Toleration> all = new ArrayList<>();
        if (res.tolerations != null) {
            res.tolerations.forEach(t -> all.add(JSON.convertValue(t, Toleration.class)));
        }
        if (Boolean.TRUE.equals(res.spot)) {
            scheduling.spotTolerations().stream().filter(t -> !all.contains(t)).forEach(all::add);
        }
        return all.isEmpty() ? null : all;
    }

    private static EnvVar env(String name, String value) {
        return new EnvVar(name, value, null);
    }
}
