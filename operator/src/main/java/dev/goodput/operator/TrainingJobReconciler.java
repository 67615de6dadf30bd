package dev.goodput.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.AttemptRecord;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.cost.AttemptRecords;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.cost.PriceQuote;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.metrics.JobSnapshot;
import dev.goodput.operator.metrics.OperatorMetrics;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.observe.ProgressPoller;
import dev.goodput.operator.observe.ProgressSample;
import dev.goodput.operator.observe.WithoutManagedFields;
import dev.goodput.operator.reconcile.EventRecorder;
import dev.goodput.operator.reconcile.JobResources;
import dev.goodput.operator.status.JobEvent;
import dev.goodput.operator.status.StatusAggregator;
import dev.goodput.operator.validate.JobValidator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
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
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
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
 *
 * <p>Cost (docs/cost.md): each attempt has a record in {@code status.attemptHistory}, opened with the price of the
 * moment ({@link PriceTable}) when its pod is created, filled from the pod and the trainer's reports, closed with its
 * outcome. Every reconcile ends by recomputing cost, GPU-seconds, goodput and time/cost-to-target from that history
 * ({@link CostLedger}) and setting the job's series on /q/metrics ({@link OperatorMetrics}); deleting the job removes
 * them.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME, informer = @Informer(genericFilter = ManagedByFilter.class,
        itemStore = TrainingJobReconciler.JobStore.class))
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
    /** The TrainingJob informer's store: managedFields are not kept. */
    public static class JobStore extends WithoutManagedFields<TrainingJob> {}

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
    private final PriceTable prices;
    private final OperatorMetrics metrics;
    private final Clock clock;
    private final JobObserver observer;
    private final JobValidator validator = new JobValidator();
    private final StatusAggregator aggregator;
    private final EventRecorder events;
    /** Generation of each job whose ConfigMap, claim and Service this process has applied. */
    private final Map<ResourceID, Long> applied = new ConcurrentHashMap<>();
    /** "namespace/key" of the tuning results this process has shared into the namespace's tuning cache. */
    private final Set<String> shared = ConcurrentHashMap.newKeySet();
    private InformerEventSource<Pod, TrainingJob> pods;
    private ProgressPoller progress;

    @Inject
    public TrainingJobReconciler(OperatorSettings settings, PriceTable prices, OperatorMetrics metrics) {
        this(settings, prices, metrics, Clock.systemUTC());
    }

    /** No price table, metrics in a registry of its own (tests that look at neither). */
    public TrainingJobReconciler(OperatorSettings settings) {
        this(settings, PriceTable.empty(), new OperatorMetrics(new SimpleMeterRegistry()), Clock.systemUTC());
    }

    public TrainingJobReconciler(OperatorSettings settings, PriceTable prices, OperatorMetrics metrics, Clock clock) {
        this.settings = settings;
        this.prices = prices;
        this.metrics = metrics;
        this.clock = clock;
        this.observer = new JobObserver(clock);
        this.aggregator = new StatusAggregator(clock);
        this.events = new EventRecorder(clock);
    }

    @Override
    public List<EventSource<?, TrainingJob>> prepareEventSources(EventSourceContext<TrainingJob> context) {
        // Pods map back to their job through the controller owner reference (JOSDK's default mapper).
        pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, TrainingJob.class)
                .withName("trainer-pods").withLabelSelector(Labels.JOB).withItemStore(new WithoutManagedFields<>()).build(),
                context);
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
            return write(job, before, status, Duration.ofSeconds(30), context);
        }
        aggregator.valid(status, generation);
        if (StatusAggregator.finished(status)) {
            untrack(id);
            return finished(job, before, status, client, jobPods, released, context);
        }
        boolean fresh = ensureDependents(client, job, generation, false);

        // observe
        int attempt = status.attempts == null ? 0 : status.attempts;
        ProgressSample sample = progress == null ? null : context.getSecondaryResource(ProgressSample.class).orElse(null);
        AttemptObservation current = observer.observe(jobPods, attempt, sample);
        if (attempt >= 1) {
            record(job, status, current);
        }
        boolean suspend = Boolean.TRUE.equals(job.getSpec().suspend);

        // reconcile
        List<JobEvent> happened = new ArrayList<>();
        Duration wait = null;
        if (attempt == 0) {
            if (suspend) {
                happened.add(aggregator.suspended(status, generation, current));
            } else {
                happened.add(aggregator.resumed(status, generation, 1));
                startAttempt(job, status, generation, 1, client, fresh);
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
            wait = attemptEnded(job, before, status, generation, current, suspend, happened, client, fresh);
        }
        happened.forEach(e -> events.record(client, job, e));
        shareTuning(client, job, status);
        if (pendingRelease(jobPods, status, released)) {
            wait = min(wait, RELEASE_DELAY);
        }
        Duration ttl = ttlLeft(job, status);
        if (ttl != null) {
            wait = min(wait, ttl.compareTo(RELEASE_DELAY) < 0 ? RELEASE_DELAY : ttl);
        }
        return write(job, before, status, wait, context);
    }

    /** The current attempt's pod has ended (or is gone): decides what that means; returns how long to wait, if so. */
    private Duration attemptEnded(TrainingJob job, TrainingJobStatus before, TrainingJobStatus status, long generation,
            AttemptObservation o, boolean suspend, List<JobEvent> happened, KubernetesClient client, boolean fresh) {
        if (o.exists() && "Succeeded".equals(o.phase())) {
            boolean target = o.report() != null && Boolean.TRUE.equals(o.report().targetReached);
            close(status, o, CostLedger.SUCCEEDED, target ? "TargetReached" : "Finished");
            happened.add(aggregator.succeeded(status, generation, o));
            return null;
        }
        boolean bySuspension = STOP_SUSPENDED.equals(o.stopReason())
                || (!o.exists() && StatusAggregator.suspensionRecorded(before));
        if (suspend || bySuspension) {
            // Stopped like a preemption (SIGTERM, checkpoint, exit) but on purpose: billed until it stopped, its work
            // up to that checkpoint kept; counted as neither a preemption nor a failure in status.
            close(status, o, CostLedger.PREEMPTED, STOP_SUSPENDED);
        }
        if (suspend) {
            happened.add(aggregator.suspended(status, generation, o));
            return null;
        }
        if (bySuspension) {
            happened.add(aggregator.resumed(status, generation, o.attempt() + 1));
            startAttempt(job, status, generation, o.attempt() + 1, client, fresh);
            return null;
        }
        String preemption = preemptionReason(o);
        if (preemption != null) {
            close(status, o, CostLedger.PREEMPTED, preemption);
            happened.add(aggregator.preempted(status, generation, o, preemption));
            startAttempt(job, status, generation, o.attempt() + 1, client, fresh);
            return null;
        }
        int code = o.exitCode() == null ? -1 : o.exitCode();
        String message = o.report() != null && o.report().message != null ? o.report().message
                : o.exitCode() == null ? "pod failed" : "exit code " + code;
        if (code == ExitCodes.CONFIG_ERROR) {
            close(status, o, CostLedger.FAILED, "ConfigError");
            happened.add(aggregator.attemptFailed(status, generation, o, "ConfigError", message, true));
            return null;
        }
        // The attempt is over whether or not a retry follows (after a back-off): its billing stops here.
        close(status, o, CostLedger.FAILED, failureReason(o));
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
            aggregator.backingOff(status, generation, o, failureReason(o), message, Math.max(1, left.toSeconds()));
            return left;
        }
        happened.add(aggregator.attemptFailed(status, generation, o, failureReason(o), message, false));
        startAttempt(job, status, generation, o.attempt() + 1, client, fresh);
        return null;
    }

    /**
     * Why an ended attempt counts as a preemption, or null for a failure: a DisruptionTarget reason, a pod deleted by
     * someone else (or gone), or the trainer's preemption exit code; never when the trainer says its checkpoint failed.
     */
    static String preemptionReason(AttemptObservation o) {
        if (o.exitCode() != null && o.exitCode() == ExitCodes.CHECKPOINT_FAILED) {
            return null; // its checkpoint could not be written: work was lost, whatever stopped it, so it is a failure
        }
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
            KubernetesClient client, Collection<Pod> jobPods, Set<String> released, Context<TrainingJob> context) {
        shareTuning(client, job, status);
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
        return write(job, before, status, wait, context);
    }

    /**
     * A micro-batch the trainer tuned ({@code status.tunedBatch.source} "tuned", with its key) goes into the namespace's
     * tuning cache ConfigMap {@link JobResources#TUNING_CACHE}, which every trainer pod mounts: the next job with the
     * same key starts without probing (source "cache"). Once per key and process; server-side apply makes a repeat
     * (after a restart) harmless. A failure only costs later jobs a tuning run: logged, tried again next reconcile.
     */
    private void shareTuning(KubernetesClient client, TrainingJob job, TrainingJobStatus status) {
        var t = status.tunedBatch;
        if (t == null || !"tuned".equals(t.source) || t.key == null || t.key.isBlank() || t.micro <= 0) {
            return;
        }
        String ns = job.getMetadata().getNamespace();
        if (!shared.add(ns + "/" + t.key)) {
            return;
        }
        try {
            client.resource(JobResources.tuningCacheEntry(ns, t.key, t.micro))
                    .fieldManager(JobResources.tuningCacheFieldManager(t.key)).forceConflicts().serverSideApply();
            LOG.infof("%s/%s: shared its tuned micro-batch %d as %s in ConfigMap %s", ns, job.getMetadata().getName(),
                    t.micro, t.key, JobResources.TUNING_CACHE);
        } catch (KubernetesClientException e) {
            shared.remove(ns + "/" + t.key);
            LOG.warnf("%s/%s: could not share its tuned micro-batch in ConfigMap %s: %s", ns,
                    job.getMetadata().getName(), JobResources.TUNING_CACHE, e.getMessage());
        }
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
        metrics.remove(job.getMetadata().getNamespace(), job.getMetadata().getName());
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

    /**
     * ConfigMap, checkpoint claim, metrics Service: applied once per generation by this process, or when forced;
     * returns whether it applied them now.
     */
    private boolean ensureDependents(KubernetesClient client, TrainingJob job, long generation, boolean force) {
        ResourceID id = ResourceID.fromResource(job);
        if (!force && Objects.equals(applied.get(id), generation)) {
            return false;
        }
        apply(client, JobResources.configMap(job));
        var claim = JobResources.checkpointClaimToCreate(job, settings);
        if (claim != null) {
            apply(client, claim);
        }
        apply(client, JobResources.metricsService(job));
        applied.put(id, generation);
        return true;
    }

    /** {@code fresh}: this reconcile has just applied the ConfigMap, claim and Service (else they are applied again). */
    private void startAttempt(TrainingJob job, TrainingJobStatus status, long generation, int attempt,
            KubernetesClient client, boolean fresh) {
        if (!fresh) {
            ensureDependents(client, job, generation, true); // the pod mounts the ConfigMap and the claim: make sure
        }
        Pod pod = apply(client, JobResources.pod(job, attempt, settings));
        if (pods != null) {
            // Read our own write: the next reconcile sees the pod even before the informer does.
            pods.handleRecentResourceCreate(ResourceID.fromResource(pod), pod);
        }
        aggregator.attemptStarted(status, generation, attempt);
        // The price is fixed now, for the whole attempt (docs/cost.md); an unpriced job runs all the same.
        PriceQuote quote = prices.quote(job.getSpec());
        AttemptRecords.begin(status, attempt, createdOrNow(pod), quote, gpus(job));
        aggregator.priced(status, generation, attempt, quote);
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

    /**
     * Ends every reconcile: recomputes cost and goodput from the attempt history ({@link CostLedger}), updates the
     * job's series on /q/metrics, and patches status if it changed. A job whose pod holds a node (so its cost grows)
     * comes back every {@link OperatorSettings#costRefresh}; for one that waits (pending, suspended, backing off) only
     * the wall-clock split moves, which alone is not worth a status write: it is written with the next real change,
     * and /q/metrics has it at once.
     */
    private UpdateControl<TrainingJob> write(TrainingJob job, TrainingJobStatus before, TrainingJobStatus after,
            Duration wait, Context<TrainingJob> context) {
        String created = job.getMetadata().getCreationTimestamp();
        CostLedger.compute(after, created == null ? null : CostLedger.time(created), Instant.now(clock)).applyTo(after);
        metrics.update(JobSnapshot.of(job.getMetadata().getNamespace(), job.getMetadata().getName(), job.getSpec(), after));
        boolean billing = billing(after);
        if (billing) {
            wait = min(wait, settings.costRefresh());
        }
        if (!sameStatus(before, after, billing)) {
            patchStatus(job, after, context);
        }
        UpdateControl<TrainingJob> control = UpdateControl.noUpdate();
        return wait == null ? control : control.rescheduleAfter(wait);
    }

    /**
     * Writes status by server-side apply, as JOSDK's {@code UpdateControl.patchStatus} does, with the reconciled
     * version's resourceVersion: a reconcile that worked on a stale job fails with 409 and JOSDK runs it again on the
     * fresh one, so nothing is counted twice. Unlike JOSDK (which does not cache its own SSA status patches), the
     * result goes into the controller's cache, so that the next reconcile (often already queued by the pod this one
     * created) starts from this status instead of the stale one and does not conflict; at scale those conflicts
     * meant every job reconciled again in full (docs: bench/results/operator-scale-*.md).
     */
    private static void patchStatus(TrainingJob job, TrainingJobStatus status, Context<TrainingJob> context) {
        TrainingJob desired = new TrainingJob();
        desired.setMetadata(new ObjectMetaBuilder().withName(job.getMetadata().getName())
                .withNamespace(job.getMetadata().getNamespace()).withResourceVersion(job.getMetadata().getResourceVersion())
                .build());
        desired.setSpec(job.getSpec());
        desired.setStatus(status);
        TrainingJob updated = context.getClient().resource(desired).subresource("status").patch(new PatchContext.Builder()
                .withPatchType(PatchType.SERVER_SIDE_APPLY).withForce(true)
                .withFieldManager(context.getControllerConfiguration().fieldManager()).build());
        context.eventSourceRetriever().getControllerEventSource()
                .handleRecentResourceUpdate(ResourceID.fromResource(job), updated, job);
    }

    /** Equal statuses; without {@code billing}, differences in status.accounting alone (wall time passing) do not count. */
    static boolean sameStatus(TrainingJobStatus before, TrainingJobStatus after, boolean billing) {
        ObjectNode a = JSON.valueToTree(before);
        ObjectNode b = JSON.valueToTree(after);
        if (!billing) {
            a.remove("accounting");
            b.remove("accounting");
        }
        return a.equals(b);
    }

    /** Whether the latest attempt's pod holds a node now: bound and not yet ended, so its cost grows. */
    static boolean billing(TrainingJobStatus s) {
        if (s.attemptHistory == null || s.attemptHistory.isEmpty() || StatusAggregator.finished(s)) {
            return false;
        }
        AttemptRecord last = s.attemptHistory.stream().max(Comparator.comparingInt(r -> r.attempt)).orElseThrow();
        return CostLedger.RUNNING.equals(last.outcome) && last.scheduled != null && last.ended == null;
    }

    /**
     * Keeps the current attempt's record in status.attemptHistory: opens it if missing (a job from before the
     * history existed, or a lost status write), then copies the pod's times and the trainer's latest report.
     */
    private void record(TrainingJob job, TrainingJobStatus status, AttemptObservation o) {
        AttemptRecord r = AttemptRecords.find(status, o.attempt());
        if (r == null) {
            r = AttemptRecords.begin(status, o.attempt(), createdOrNow(o.pod()), prices.quote(job.getSpec()), gpus(job));
        }
        AttemptRecords.observePod(r, o.pod());
        AttemptRecords.report(r, o.live());
        AttemptRecords.report(r, o.report());
    }

    /** Closes the record of an ended attempt; its end is the pod's own finish time when known, else now. */
    private void close(TrainingJobStatus status, AttemptObservation o, String outcome, String reason) {
        AttemptRecord r = AttemptRecords.find(status, o.attempt());
        if (r != null) {
            AttemptRecords.end(r, outcome, reason, Instant.now(clock));
        }
    }

    /** OOMKilled when the kernel killed the trainer for memory, else PodFailed. */
    /** OOMKilled, CheckpointFailed (the trainer's exit 74) or PodFailed. */
    static String failureReason(AttemptObservation o) {
        if (o.exitCode() != null && o.exitCode() == ExitCodes.CHECKPOINT_FAILED) {
            return "CheckpointFailed";
        }
        if (o.pod() != null && o.pod().getStatus() != null && o.pod().getStatus().getContainerStatuses() != null) {
            for (var c : o.pod().getStatus().getContainerStatuses()) {
                var t = c.getState() == null ? null : c.getState().getTerminated();
                if (t != null && "OOMKilled".equals(t.getReason())) {
                    return "OOMKilled";
                }
            }
        }
        return "PodFailed";
    }

    private Instant createdOrNow(Pod pod) {
        String t = pod == null ? null : pod.getMetadata().getCreationTimestamp();
        return t == null ? Instant.now(clock) : CostLedger.time(t);
    }

    private static int gpus(TrainingJob job) {
        var r = job.getSpec().resources;
        return r == null || r.gpus == null ? 0 : r.gpus;
    }
}
