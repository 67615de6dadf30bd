package dev.goodput.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.attempt.AttemptHistory;
import dev.goodput.operator.attempt.AttemptStateMachine;
import dev.goodput.operator.attempt.AttemptStateMachine.Decision;
import dev.goodput.operator.attempt.AttemptStateMachine.StatusView;
import dev.goodput.operator.attempt.Gang;
import dev.goodput.operator.cost.CostLedger;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.metrics.OperatorMetrics;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.observe.ProgressPoller;
import dev.goodput.operator.observe.ProgressSample;
import dev.goodput.operator.observe.WithoutManagedFields;
import dev.goodput.operator.reconcile.EventRecorder;
import dev.goodput.operator.reconcile.JobDependents;
import dev.goodput.operator.reconcile.PodFinalizers;
import dev.goodput.operator.reconcile.SpecChanges;
import dev.goodput.operator.reconcile.StatusWriter;
import dev.goodput.operator.reconcile.TrainerPods;
import dev.goodput.operator.reconcile.TtlAfterFinished;
import dev.goodput.operator.reconcile.TuningCacheSharer;
import dev.goodput.operator.status.JobEvent;
import dev.goodput.operator.status.StatusAggregator;
import dev.goodput.operator.validate.JobValidator;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.reconciler.Cleaner;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.DeleteControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.inject.Inject;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.jboss.logging.Logger;

import static dev.goodput.operator.reconcile.Durations.sooner;

/**
 * Turns a TrainingJob into trainer pods, one attempt at a time, in the steps of the Flink and Keycloak operators:
 * <b>observe</b> ({@link JobObserver}: the current attempt's pods from the informer cache, the trainer's
 * {@code /progress} from {@link ProgressPoller}'s cache; a {@link Gang} of them when spec.resources.workers > 1, which
 * starts, stops and ends as one attempt), <b>validate</b> ({@link JobValidator}: what the CRD cannot
 * check), <b>decide</b> ({@link AttemptStateMachine}, a pure function of status, observation, spec and time),
 * <b>act</b> (stop or start the attempt's pods with {@link TrainerPods}, the ConfigMap, claim, and a gang's Service
 * and NetworkPolicy with {@link JobDependents}, the
 * attempt's record with {@link AttemptHistory}), <b>record</b> ({@link StatusAggregator} alone writes phase and
 * conditions and picks the events, {@link EventRecorder} records them, {@link StatusWriter} writes status).
 *
 * <p>Before deciding anything, the pods whose outcome the persisted status already records lose their pod-tracking
 * finalizer ({@link PodFinalizers}). Around the attempts: {@link TuningCacheSharer} shares a tuned micro-batch with
 * the namespace, {@link TtlAfterFinished} deletes a job finished for {@code ttlSecondsAfterFinished};
 * {@code spec.managedBy} naming another controller keeps the operator away ({@link ManagedByFilter}). Deleting a job
 * ({@link #cleanup}) first stops its running pods gracefully and waits for them, so their last checkpoint is written.
 *
 * <p>Cost (docs/cost.md): {@link AttemptHistory} prices, fills, closes and folds each attempt's record in
 * {@code status.attemptHistory}; {@link StatusWriter} recomputes cost and goodput from it ({@link CostLedger}) and hands
 * it to the job's series on /q/metrics, which compute them again when scraped and go when the job is deleted.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME, informer = @Informer(genericFilter = ManagedByFilter.class,
        itemStore = TrainingJobReconciler.JobStore.class))
public class TrainingJobReconciler implements Reconciler<TrainingJob>, Cleaner<TrainingJob> {
    /** The TrainingJob informer's store: managedFields are not kept. */
    public static class JobStore extends WithoutManagedFields<TrainingJob> {}

    public static final String NAME = "trainingjob";
    private static final Logger LOG = Logger.getLogger(TrainingJobReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How soon a reconcile that recorded an outcome comes back to release the pod's finalizer. */
    static final Duration RELEASE_DELAY = Duration.ofSeconds(1);
    /** How often a job being deleted checks on the pods it waits for. */
    static final Duration CLEANUP_POLL = Duration.ofSeconds(2);
    /** How often an invalid job is validated again (a claim it names may appear). */
    static final Duration INVALID_RECHECK = Duration.ofSeconds(30);

    private final OperatorSettings settings;
    private final Clock clock;
    private final JobObserver observer;
    private final JobValidator validator = new JobValidator();
    private final AttemptStateMachine machine;
    private final StatusAggregator aggregator;
    private final EventRecorder events;
    private final AttemptHistory history;
    private final TrainerPods pods;
    private final JobDependents dependents;
    private final PodFinalizers finalizers;
    private final TuningCacheSharer tuningCache = new TuningCacheSharer();
    private final TtlAfterFinished ttl;
    private final StatusWriter statusWriter;
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
        this.clock = clock;
        this.observer = new JobObserver(clock);
        this.machine = new AttemptStateMachine(AttemptStateMachine.Backoff.of(settings));
        this.aggregator = new StatusAggregator(clock);
        this.events = new EventRecorder(clock);
        this.history = new AttemptHistory(prices, clock);
        this.pods = new TrainerPods(settings);
        this.dependents = new JobDependents(settings);
        this.finalizers = new PodFinalizers(observer);
        this.ttl = new TtlAfterFinished(clock);
        this.statusWriter = new StatusWriter(metrics, settings.statusInterval(), clock);
    }

    @Override
    public List<EventSource<?, TrainingJob>> prepareEventSources(EventSourceContext<TrainingJob> context) {
        progress = new ProgressPoller(settings.progressInterval(), settings.progressTimeout(), clock);
        return List.of(pods.informer(context), progress);
    }

    @Override
    public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
        if (!Labels.managedHere(job.getSpec().managedBy)) {
            return UpdateControl.noUpdate(); // ManagedByFilter keeps such jobs' events away; this is the last guard
        }
        KubernetesClient client = context.getClient();
        TrainingJobStatus before = job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
        TrainingJobStatus status = JSON.convertValue(before, TrainingJobStatus.class);
        long generation = job.getMetadata().getGeneration() == null ? 0 : job.getMetadata().getGeneration();

        // observe: the job's pods and the trainer's latest report, from the informers' caches
        Collection<Pod> jobPods = context.getSecondaryResources(Pod.class);
        ProgressSample sample = progress == null ? null : context.getSecondaryResource(ProgressSample.class).orElse(null);
        Gang gang = Gang.of(observer.observeRanks(jobPods, StatusView.of(before).attempts(), sample));
        AttemptObservation current = gang.lead();
        // What the persisted status records lets go of its pods first, whatever this reconcile goes on to do.
        Set<String> released = finalizers.release(client, jobPods, StatusView.of(before));

        // validate
        JobValidator.Result validation = validator.validate(job, client);
        if (!validation.valid()) {
            untrack(job);
            aggregator.invalid(status, generation, validation.reason(), validation.problems());
            return statusWriter.write(job, before, status, INVALID_RECHECK, context);
        }
        aggregator.valid(status, generation);

        // decide
        Decision decision = machine.decide(
                new AttemptStateMachine.Input(StatusView.of(status), current, job.getSpec(), Instant.now(clock)));

        // act
        if (decision.finished()) {
            untrack(job);
            return record(job, before, status, null, jobPods, released, context);
        }
        boolean fresh = dependents.applyOncePerGeneration(client, job, generation);
        if (current.attempt() >= 1) {
            history.observe(status, job, gang);
            aggregator.workers(status, gang);
        }
        act(job, status, generation, gang, decision, client, fresh);
        return record(job, before, status, decision.retryAfter(), jobPods, released, context);
    }

    /** Carries out a decision about the current attempt, in the order its fields say; records the event it brings. */
    private void act(TrainingJob job, TrainingJobStatus status, long generation, Gang gang, Decision decision,
            KubernetesClient client, boolean fresh) {
        AttemptObservation current = gang.lead();
        if (decision.pollProgress() && progress != null) {
            progress.track(ResourceID.fromResource(job), current.pod());
        } else {
            untrack(job);
        }
        if (decision.stop() != null) {
            gang.toStop(decision.stop()).forEach(p -> TrainerPods.stop(client, p, decision.stop()));
        }
        if (decision.close() != null) {
            history.close(status, current.attempt(), decision.close());
        }
        var event = decision.report().write(aggregator, status, generation, current);
        JobEvent specChanged = null;
        if (decision.start() != null) {
            // The new pod runs the spec as it is now: announced when it differs from what the last attempt ran.
            specChanged = SpecChanges.event(status.reconciledSpec, job.getSpec(), decision.start(), generation);
            dependents.applyForAttempt(client, job, generation, fresh);
            List<Pod> started = pods.start(client, job, decision.start());
            aggregator.attemptStarted(status, generation, decision.start(), started.size(),
                    SpecChanges.serialize(job.getSpec()));
            aggregator.priced(status, generation, decision.start(),
                    history.begin(status, job, decision.start(), started.get(0)));
        }
        events.record(client, job, specChanged);
        events.record(client, job, event);
    }

    /**
     * Record: shares a tuned batch, comes back for the finalizers this status will release and for the TTL (deleting
     * a job that had finished before this reconcile once it is due), and writes status with cost and metrics.
     */
    private UpdateControl<TrainingJob> record(TrainingJob job, TrainingJobStatus before, TrainingJobStatus status,
            Duration wait, Collection<Pod> jobPods, Set<String> released, Context<TrainingJob> context) {
        KubernetesClient client = context.getClient();
        tuningCache.share(client, job, status);
        if (finalizers.pendingRelease(jobPods, StatusView.of(status), released)) {
            wait = sooner(wait, RELEASE_DELAY);
        }
        wait = sooner(wait, ttl.enforce(client, job, status, StatusAggregator.finished(before), RELEASE_DELAY));
        return statusWriter.write(job, before, status, wait, context);
    }

    /**
     * Deleting a TrainingJob: its running pods are stopped gracefully (SIGTERM, then the pod's grace period, in which
     * the trainer writes its last checkpoint) and waited for; then their finalizers are released and the job goes. What
     * it owns (ConfigMap, the claim the operator created, finished pods) the garbage collector deletes through the
     * owner references; a claim named in the spec stays.
     */
    @Override
    public DeleteControl cleanup(TrainingJob job, Context<TrainingJob> context) {
        untrack(job);
        dependents.forget(ResourceID.fromResource(job));
        validator.forget(ResourceID.fromResource(job));
        statusWriter.forget(job);
        KubernetesClient client = context.getClient();
        Collection<Pod> jobPods = context.getSecondaryResources(Pod.class);
        List<Pod> stopping = AttemptStateMachine.toStopOnDeletion(
                jobPods.stream().map(p -> observer.observe(p, JobObserver.attemptOf(p), null)).toList());
        if (!stopping.isEmpty()) {
            stopping.forEach(p -> TrainerPods.stop(client, p, AttemptStateMachine.STOP_JOB_DELETED));
            LOG.infof("%s/%s: deleted; waiting for %d pod(s) to checkpoint and stop", job.getMetadata().getNamespace(),
                    job.getMetadata().getName(), stopping.size());
            return DeleteControl.noFinalizerRemoval().rescheduleAfter(CLEANUP_POLL);
        }
        finalizers.releaseAll(client, jobPods);
        return DeleteControl.defaultDelete();
    }

    private void untrack(TrainingJob job) {
        if (progress != null) progress.untrack(ResourceID.fromResource(job));
    }
}
