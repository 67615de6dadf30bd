package dev.goodput.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.observe.ProgressPoller;
import dev.goodput.operator.observe.ProgressSample;
import dev.goodput.operator.reconcile.EventRecorder;
import dev.goodput.operator.reconcile.JobResources;
import dev.goodput.operator.status.JobEvent;
import dev.goodput.operator.status.StatusAggregator;
import dev.goodput.operator.validate.JobValidator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Turns a TrainingJob into trainer pods, one attempt at a time, in three steps as the Flink operator does:
 * <b>observe</b> ({@link JobObserver}: the current attempt's pod from the informer cache, the trainer's
 * {@code /progress} from {@link ProgressPoller}'s cache), <b>validate</b> ({@link JobValidator}: what the CRD cannot
 * check), <b>reconcile</b> (server-side apply of {@link JobResources}; decide what the attempt's end means).
 * {@link StatusAggregator} alone writes phase and conditions and decides the events ({@link EventRecorder}).
 *
 * <p>Idempotence: the attempt counter advances only in the reconcile that applies the next attempt's pod, and the
 * pod is a pure function of job and attempt, so a reconcile repeated after a lost status write (or an operator
 * restart) re-applies the same pod and counts nothing twice. Preemptions (DisruptionTarget, a pod deleted by someone
 * else, the trainer's exit code 75) start the next attempt at once and never count against backoffLimit; failures
 * wait an exponential back-off and end the job after backoffLimit retries; exit code 78 (config error) ends it at once.
 *
 * <p>Determinism: every trainer pod carries the pod-tracking finalizer {@link Labels#POD_FINALIZER}, removed only
 * once status (as persisted, i.e. as this reconcile found it) records the attempt's outcome. So the operator always
 * reads a finished pod's exit code, termination message and DisruptionTarget, whoever was faster.
 *
 * <p>Lifecycle: {@code spec.suspend} stops the pod gracefully (the trainer checkpoints on SIGTERM) and starts no new
 * one; resuming starts the next attempt, which resumes from that checkpoint; neither counts as preemption or
 * failure. {@code spec.managedBy} naming another controller keeps the operator away ({@link ManagedByFilter}).
 * {@code ttlSecondsAfterFinished} deletes a finished job. Deleting a job ({@link #cleanup}) first stops its running
 * pods gracefully and waits for them, so their last checkpoint is written.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME, informer = @Informer(genericFilter = ManagedByFilter.class))
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
    public static final String NAME = "trainingjob";
    /** Stop reasons the operator writes on pods it deletes itself (annotation {@link Labels#STOP_REASON}). */
    public static final String STOP_SUSPENDED = "Suspended";
    public static final String STOP_JOB_DELETED = "JobDeleted";
    private static final Logger LOG = Logger.getLogger(TrainingJobReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> PREEMPTION_REASONS = Set.of("PreemptionByScheduler", "EvictionByEvictionAPI",
            "DeletionByTaintManager", "TerminationByKubelet");
    /** How soon a reconcile that recorded an outcome comes back to release the pod's finalizer. */
    static final Duration RELEASE_DELAY = Duration.ofSeconds(1);
    /** How often a job being deleted checks on the pods it waits for. */
    static final Duration CLEANUP_POLL = Duration.ofSeconds(2);

    private final OperatorSettings settings;
    private final Clock clock;
    private final JobObserver observer;
    private final JobValidator validator = new JobValidator();
    private final StatusAggregator aggregator;
    private final EventRecorder events;
    /** Generation of each job whose ConfigMap, claim and Service this process has applied. */
    private final Map<ResourceID, Long> applied = new ConcurrentHashMap<>();
    private InformerEventSource<Pod, TrainingJob> pods;
    private ProgressPoller progress;

    @Inject
    public TrainingJobReconciler(OperatorSettings settings) {
        this(settings, Clock.systemUTC());
    }

    public TrainingJobReconciler(OperatorSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.observer = new JobObserver(clock);
        this.aggregator = new StatusAggregator(clock);
        this.events = new EventRecorder(clock);
    }

    @Override
    public List<EventSource<?, TrainingJob>> prepareEventSources(EventSourceContext<TrainingJob> context) {
        // Pods map back to their job through the controller owner reference (JOSDK's default mapper).
        pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, TrainingJob.class)
                .withName("trainer-pods").withLabelSelector(Labels.JOB).build(), context);
        progress = new ProgressPoller(settings.progressInterval(), settings.progressTimeout(), clock);
        return List.of(pods, progress);
    }

    @Override
    public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
        if (!Labels.managedHere(job.getSpec().managedBy)) {
            return UpdateControl.noUpdate(); // ManagedByFilter keeps such jobs' events away; this is the last guard
        }
        KubernetesClient client = context.getClient();
        ResourceID id = ResourceID.fromResource(job);
        TrainingJobStatus before = job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
        TrainingJobStatus status = JSON.convertValue(before, TrainingJobStatus.class);
        long generation = Objects.requireNonNullElse(job.getMetadata().getGeneration(), 0L);
        Collection<Pod> jobPods = context.getSecondaryResources(Pod.class);
        Set<String> released = release(client, jobPods, before);

        // validate
        JobValidator.Result validation = validator.validate(job, client);
        if (!validation.valid()) {
            untrack(id);
            aggregator.invalid(status, generation, validation.reason(), validation.problems());
            return write(job, before, status, Duration.ofSeconds(30));
        }
        aggregator.valid(status, generation);
        if (StatusAggregator.finished(status)) {
            untrack(id);
            return finished(job, before, status, client, jobPods, released);
        }
        ensureDependents(client, job, generation, false);

        // observe
        int attempt = status.attempts == null ? 0 : status.attempts;
        ProgressSample sample = progress == null ? null : context.getSecondaryResource(ProgressSample.class).orElse(null);
        AttemptObservation current = observer.observe(jobPods, attempt, sample);
        boolean suspend = Boolean.TRUE.equals(job.getSpec().suspend);

        // reconcile
        List<JobEvent> happened = new ArrayList<>();
        Duration wait = null;
        if (attempt == 0) {
            if (suspend) {
                happened.add(aggregator.suspended(status, generation, current));
            } else {
                happened.add(aggregator.resumed(status, generation, 1));
                startAttempt(job, status, generation, 1, client);
            }
        } else if (!current.ended()) {
            if (suspend) {
                untrack(id);
                stop(client, current.pod(), STOP_SUSPENDED);
                aggregator.suspending(status, generation, current);
            } else {
                aggregator.observed(status, generation, current);
                if (current.running() && progress != null) {
                    progress.track(id, current.pod());
                } else {
                    untrack(id);
                }
            }
        } else {
            untrack(id);
            wait = attemptEnded(job, before, status, generation, current, suspend, happened, client);
        }
        happened.forEach(e -> events.record(client, job, e));
        if (pendingRelease(jobPods, status, released)) {
            wait = min(wait, RELEASE_DELAY);
        }
        Duration ttl = ttlLeft(job, status);
        if (ttl != null) {
            wait = min(wait, ttl.compareTo(RELEASE_DELAY) < 0 ? RELEASE_DELAY : ttl);
        }
        return write(job, before, status, wait);
    }

    /** The current attempt's pod has ended (or is gone): decides what that means; returns how long to wait, if so. */
    private Duration attemptEnded(TrainingJob job, TrainingJobStatus before, TrainingJobStatus status, long generation,
            AttemptObservation o, boolean suspend, List<JobEvent> happened, KubernetesClient client) {
        if (o.exists() && "Succeeded".equals(o.phase())) {
            happened.add(aggregator.succeeded(status, generation, o));
            return null;
        }
        if (suspend) {
            happened.add(aggregator.suspended(status, generation, o));
            return null;
        }
        boolean bySuspension = STOP_SUSPENDED.equals(o.stopReason())
                || (!o.exists() && StatusAggregator.suspensionRecorded(before));
        if (bySuspension) {
            happened.add(aggregator.resumed(status, generation, o.attempt() + 1));
            startAttempt(job, status, generation, o.attempt() + 1, client);
            return null;
        }
        String preemption = preemptionReason(o);
        if (preemption != null) {
            happened.add(aggregator.preempted(status, generation, o, preemption));
            startAttempt(job, status, generation, o.attempt() + 1, client);
            return null;
        }
        int code = o.exitCode() == null ? -1 : o.exitCode();
        String message = o.report() != null && o.report().message != null ? o.report().message
                : o.exitCode() == null ? "pod failed" : "exit code " + code;
        if (code == ExitCodes.CONFIG_ERROR) {
            happened.add(aggregator.attemptFailed(status, generation, o, "ConfigError", message, true));
            return null;
        }
        int failures = status.failures == null ? 0 : status.failures;
        if (failures + 1 > job.getSpec().backoffLimitOrDefault()) {
            happened.add(aggregator.attemptFailed(status, generation, o, "BackoffLimitExceeded",
                    message + " (" + (failures + 1) + " failures, backoffLimit " + job.getSpec().backoffLimitOrDefault() + ")",
                    true));
            return null;
        }
        Duration backoff = backoff(failures);
        Instant finished = finishedAt(o.pod());
        Duration left = Duration.between(Instant.now(clock), finished.plus(backoff));
        if (!left.isNegative() && !left.isZero()) {
            aggregator.backingOff(status, generation, o, "PodFailed", message, Math.max(1, left.toSeconds()));
            return left;
        }
        happened.add(aggregator.attemptFailed(status, generation, o, "PodFailed", message, false));
        startAttempt(job, status, generation, o.attempt() + 1, client);
        return null;
    }

    /**
     * Why an ended attempt counts as a preemption, or null for a failure: a DisruptionTarget reason, a pod deleted by
     * someone else (or gone), or the trainer's preemption exit code.
     */
    static String preemptionReason(AttemptObservation o) {
        if (!o.exists()) {
            return "PodDeleted";
        }
        if (o.disruption() != null && PREEMPTION_REASONS.contains(o.disruption())) {
            return o.disruption();
        }
        if (o.deleting()) {
            return "PodDeleted";
        }
        if (o.exitCode() != null && o.exitCode() == ExitCodes.PREEMPTED) {
            return "TrainerPreempted";
        }
        return null;
    }

    /** A finished job: release what is recorded, then wait for ttlSecondsAfterFinished and delete the job. */
    private UpdateControl<TrainingJob> finished(TrainingJob job, TrainingJobStatus before, TrainingJobStatus status,
            KubernetesClient client, Collection<Pod> jobPods, Set<String> released) {
        Duration wait = pendingRelease(jobPods, status, released) ? RELEASE_DELAY : null;
        Duration ttl = ttlLeft(job, status);
        if (ttl != null) {
            if (ttl.isNegative() || ttl.isZero()) {
                LOG.infof("%s/%s: %s %s ago, ttlSecondsAfterFinished %d: deleting it", job.getMetadata().getNamespace(),
                        job.getMetadata().getName(), status.phase, Duration.between(Instant.parse(status.completionTime),
                                Instant.now(clock)).toSeconds(), job.getSpec().ttlSecondsAfterFinished);
                try {
                    client.resource(job).delete();
                } catch (KubernetesClientException e) {
                    if (e.getCode() != 404) {
                        throw e;
                    }
                }
            } else {
                wait = min(wait, ttl);
            }
        }
        return write(job, before, status, wait);
    }

    /** Time left until a finished job is to be deleted, or null without ttlSecondsAfterFinished. */
    private Duration ttlLeft(TrainingJob job, TrainingJobStatus status) {
        Integer ttl = job.getSpec().ttlSecondsAfterFinished;
        if (ttl == null || !StatusAggregator.finished(status) || status.completionTime == null) {
            return null;
        }
        return Duration.between(Instant.now(clock), Instant.parse(status.completionTime).plusSeconds(ttl));
    }

    /**
     * Deleting a TrainingJob: its running pods are stopped gracefully (SIGTERM, then the pod's grace period, in which
     * the trainer writes its last checkpoint) and waited for; then their finalizers are released and the job goes.
     * What it owns (ConfigMap, Service, the claim the operator created, the finished pods) the garbage collector
     * deletes after it, through the owner references; a claim named in the spec stays.
     */
    @Override
    public DeleteControl cleanup(TrainingJob job, Context<TrainingJob> context) {
        ResourceID id = ResourceID.fromResource(job);
        untrack(id);
        applied.remove(id);
        KubernetesClient client = context.getClient();
        int stopping = 0;
        Collection<Pod> jobPods = context.getSecondaryResources(Pod.class);
        for (Pod pod : jobPods) {
            if (!observer.observe(pod, JobObserver.attemptOf(pod), null).ended()) {
                stop(client, pod, STOP_JOB_DELETED);
                stopping++;
            }
        }
        if (stopping > 0) {
            LOG.infof("%s/%s: deleted; waiting for %d pod(s) to checkpoint and stop", job.getMetadata().getNamespace(),
                    job.getMetadata().getName(), stopping);
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(CLEANUP_POLL);
        }
        jobPods.stream().filter(TrainingJobReconciler::tracked).forEach(p -> removeFinalizer(client, p));
        return DeleteControl.defaultDelete();
    }

    /** Removes the pod-tracking finalizer of ended pods whose outcome {@code recorded} (persisted status) holds. */
    private Set<String> release(KubernetesClient client, Collection<Pod> jobPods, TrainingJobStatus recorded) {
        Set<String> released = new HashSet<>();
        for (Pod p : jobPods) {
            if (releasable(p, recorded) && removeFinalizer(client, p)) {
                released.add(p.getMetadata().getUid());
            }
        }
        return released;
    }

    /** Whether, once {@code status} is written, some pod's finalizer can go (so the reconcile should come back soon). */
    private boolean pendingRelease(Collection<Pod> jobPods, TrainingJobStatus status, Set<String> released) {
        return jobPods.stream().anyMatch(p -> !released.contains(p.getMetadata().getUid()) && releasable(p, status));
    }

    private boolean releasable(Pod p, TrainingJobStatus s) {
        int a = JobObserver.attemptOf(p);
        return tracked(p) && recorded(s, a) && observer.observe(p, a, null).ended();
    }

    /** Whether status records how attempt {@code a} ended: a later attempt started, or it finished or suspended the job. */
    static boolean recorded(TrainingJobStatus s, int a) {
        int attempts = s.attempts == null ? 0 : s.attempts;
        return a >= 1 && (a < attempts
                || a == attempts && (StatusAggregator.finished(s) || StatusAggregator.suspensionRecorded(s)));
    }

    private static boolean tracked(Pod p) {
        return p.getMetadata().getFinalizers() != null && p.getMetadata().getFinalizers().contains(Labels.POD_FINALIZER);
    }

    private static boolean removeFinalizer(KubernetesClient client, Pod p) {
        int i = p.getMetadata().getFinalizers().indexOf(Labels.POD_FINALIZER);
        // test + remove: never removes someone else's finalizer if the list changed since the cache saw it.
        String patch = "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/" + i + "\",\"value\":\"" + Labels.POD_FINALIZER
                + "\"},{\"op\":\"remove\",\"path\":\"/metadata/finalizers/" + i + "\"}]";
        try {
            client.pods().inNamespace(p.getMetadata().getNamespace()).withName(p.getMetadata().getName())
                    .patch(PatchContext.of(PatchType.JSON), patch);
            return true;
        } catch (KubernetesClientException e) {
            if (e.getCode() == 404 || e.getCode() == 409 || e.getCode() == 422) {
                return false; // gone, or changed meanwhile: the next reconcile sees the new version
            }
            throw e;
        }
    }

    /** Deletes a pod gracefully (its own terminationGracePeriodSeconds), noting why on it first. Idempotent. */
    private static void stop(KubernetesClient client, Pod pod, String reason) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        try {
            Map<String, String> annotations = pod.getMetadata().getAnnotations();
            if (annotations == null || !reason.equals(annotations.get(Labels.STOP_REASON))) {
                client.pods().inNamespace(ns).withName(name).patch(PatchContext.of(PatchType.JSON_MERGE),
                        JSON.writeValueAsString(Map.of("metadata", Map.of("annotations", Map.of(Labels.STOP_REASON, reason)))));
            }
            if (pod.getMetadata().getDeletionTimestamp() == null) {
                client.pods().inNamespace(ns).withName(name).delete();
                LOG.infof("%s/%s: stopping pod (%s); the trainer checkpoints before it exits", ns, name, reason);
            }
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    Duration backoff(int failuresSoFar) {
        Duration d = settings.failureBackoff().multipliedBy(1L << Math.min(failuresSoFar, 20));
        return d.compareTo(settings.maxFailureBackoff()) > 0 ? settings.maxFailureBackoff() : d;
    }

    private Instant finishedAt(Pod pod) {
        return pod.getStatus().getContainerStatuses().stream()
                .map(c -> c.getState() == null ? null : c.getState().getTerminated()).filter(Objects::nonNull)
                .map(t -> t.getFinishedAt()).filter(Objects::nonNull).map(Instant::parse).findFirst()
                .orElse(Instant.now(clock));
    }

    /** ConfigMap, checkpoint claim, metrics Service: applied once per generation by this process, or when forced. */
    private void ensureDependents(KubernetesClient client, TrainingJob job, long generation, boolean force) {
        ResourceID id = ResourceID.fromResource(job);
        if (!force && Objects.equals(applied.get(id), generation)) {
            return;
        }
        apply(client, JobResources.configMap(job));
        var claim = JobResources.checkpointClaimToCreate(job, settings);
        if (claim != null) {
            apply(client, claim);
        }
        apply(client, JobResources.metricsService(job));
        applied.put(id, generation);
    }

    private void startAttempt(TrainingJob job, TrainingJobStatus status, long generation, int attempt,
            KubernetesClient client) {
        ensureDependents(client, job, generation, true); // the pod mounts the ConfigMap and the claim: make sure
        Pod pod = apply(client, JobResources.pod(job, attempt, settings));
        if (pods != null) {
            // Read our own write: the next reconcile sees the pod even before the informer does.
            pods.handleRecentResourceCreate(ResourceID.fromResource(pod), pod);
        }
        aggregator.attemptStarted(status, generation, attempt);
        LOG.infof("%s/%s: attempt %d started (pod %s)", job.getMetadata().getNamespace(), job.getMetadata().getName(),
                attempt, pod.getMetadata().getName());
    }

    private void untrack(ResourceID id) {
        if (progress != null) {
            progress.untrack(id);
        }
    }

    private static Duration min(Duration a, Duration b) {
        return a == null ? b : b == null ? a : a.compareTo(b) <= 0 ? a : b;
    }

    private static <T extends HasMetadata> T apply(KubernetesClient client, T desired) {
        return client.resource(desired).fieldManager(Labels.FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    private static UpdateControl<TrainingJob> write(TrainingJob job, TrainingJobStatus before, TrainingJobStatus after,
            Duration wait) {
        UpdateControl<TrainingJob> control;
        if (JSON.valueToTree(before).equals(JSON.valueToTree(after))) {
            control = UpdateControl.noUpdate();
        } else {
            job.setStatus(after);
            control = UpdateControl.patchStatus(job);
        }
        return wait == null ? control : control.rescheduleAfter(wait);
    }
}
