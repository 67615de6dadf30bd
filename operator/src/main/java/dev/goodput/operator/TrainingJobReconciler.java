package dev.goodput.operator;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.observe.AttemptObservation;
import dev.goodput.operator.observe.JobObserver;
import dev.goodput.operator.reconcile.JobResources;
import dev.goodput.operator.status.StatusAggregator;
import dev.goodput.operator.validate.JobValidator;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
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
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Turns a TrainingJob into trainer pods, one attempt at a time, in three steps as the Flink operator does:
 * <b>observe</b> ({@link JobObserver}: the current attempt's pod, from the informer cache), <b>validate</b>
 * ({@link JobValidator}: what the CRD cannot check), <b>reconcile</b> (server-side apply of {@link JobResources};
 * decide what the attempt's end means). {@link StatusAggregator} alone writes phase and conditions.
 *
 * <p>Idempotence: the attempt counter advances only in the reconcile that applies the next attempt's pod, and the
 * pod is a pure function of job and attempt, so a reconcile repeated after a lost status write (or an operator
 * restart) re-applies the same pod and counts nothing twice. Preemptions (DisruptionTarget, the trainer's exit code
 * 75, a pod deleted before it ended) start the next attempt at once and never count against backoffLimit; failures
 * wait an exponential back-off and end the job after backoffLimit retries; exit code 78 (config error) ends it at once.
 */
@ControllerConfiguration(name = TrainingJobReconciler.NAME)
public class TrainingJobReconciler implements Reconciler<TrainingJob> {
    public static final String NAME = "trainingjob";
    private static final Logger LOG = Logger.getLogger(TrainingJobReconciler.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> PREEMPTION_REASONS = Set.of("PreemptionByScheduler", "EvictionByEvictionAPI",
            "DeletionByTaintManager", "TerminationByKubelet");

    private final OperatorSettings settings;
    private final Clock clock;
    private final JobObserver observer = new JobObserver();
    private final JobValidator validator = new JobValidator();
    private final StatusAggregator aggregator;
    private InformerEventSource<Pod, TrainingJob> pods;

    @Inject
    public TrainingJobReconciler(OperatorSettings settings) {
        this(settings, Clock.systemUTC());
    }

    public TrainingJobReconciler(OperatorSettings settings, Clock clock) {
        this.settings = settings;
        this.clock = clock;
        this.aggregator = new StatusAggregator(clock);
    }

    @Override
    public List<EventSource<?, TrainingJob>> prepareEventSources(EventSourceContext<TrainingJob> context) {
        // Pods map back to their job through the controller owner reference (JOSDK's default mapper).
        pods = new InformerEventSource<>(InformerEventSourceConfiguration.from(Pod.class, TrainingJob.class)
                .withName("trainer-pods").withLabelSelector(Labels.JOB).build(), context);
        return List.of(pods);
    }

    @Override
    public UpdateControl<TrainingJob> reconcile(TrainingJob job, Context<TrainingJob> context) {
        KubernetesClient client = context.getClient();
        TrainingJobStatus before = job.getStatus() == null ? new TrainingJobStatus() : job.getStatus();
        TrainingJobStatus status = JSON.convertValue(before, TrainingJobStatus.class);
        long generation = Objects.requireNonNullElse(job.getMetadata().getGeneration(), 0L);

        // validate
        JobValidator.Result validation = validator.validate(job, client);
        if (!validation.valid()) {
            aggregator.invalid(status, generation, validation.reason(), validation.problems());
            return write(job, before, status).rescheduleAfter(Duration.ofSeconds(30));
        }
        aggregator.valid(status, generation);
        if (StatusAggregator.finished(status)) {
            return write(job, before, status);
        }

        apply(client, JobResources.configMap(job));
        var claim = JobResources.checkpointClaimToCreate(job, settings);
        if (claim != null) {
            apply(client, claim);
        }

        // observe
        int attempt = status.attempts == null ? 0 : status.attempts;
        AttemptObservation current = observer.observe(context.getSecondaryResources(Pod.class), attempt);

        // reconcile
        Duration wait = null;
        if (attempt == 0) {
            startAttempt(job, status, generation, 1, client);
        } else if (!current.exists()) {
            aggregator.preempted(status, generation, current, "PodDeleted");
            startAttempt(job, status, generation, attempt + 1, client);
        } else if ("Succeeded".equals(current.phase())) {
            aggregator.succeeded(status, generation, current);
        } else if ("Failed".equals(current.phase())) {
            wait = attemptEnded(job, status, generation, current, client);
        } else {
            aggregator.observed(status, generation, current);
        }
        UpdateControl<TrainingJob> control = write(job, before, status);
        return wait == null ? control : control.rescheduleAfter(wait);
    }

    /** Decides what a Failed pod means; returns how long to wait when a retry waits for its back-off. */
    private Duration attemptEnded(TrainingJob job, TrainingJobStatus status, long generation, AttemptObservation o,
            KubernetesClient client) {
        String preemption = preemptionReason(o);
        if (preemption != null) {
            aggregator.preempted(status, generation, o, preemption);
            startAttempt(job, status, generation, o.attempt() + 1, client);
            return null;
        }
        int code = o.exitCode() == null ? -1 : o.exitCode();
        String message = o.report() != null && o.report().message != null ? o.report().message
                : o.exitCode() == null ? "pod failed" : "exit code " + code;
        if (code == ExitCodes.CONFIG_ERROR) {
            aggregator.attemptFailed(status, generation, o, "ConfigError", message, true);
            return null;
        }
        int failures = status.failures == null ? 0 : status.failures;
        if (failures + 1 > job.getSpec().backoffLimitOrDefault()) {
            aggregator.attemptFailed(status, generation, o, "BackoffLimitExceeded",
                    message + " (" + (failures + 1) + " failures, backoffLimit " + job.getSpec().backoffLimitOrDefault() + ")",
                    true);
            return null;
        }
        Duration backoff = backoff(failures);
        Instant finished = finishedAt(o.pod());
        Duration left = Duration.between(Instant.now(clock), finished.plus(backoff));
        if (!left.isNegative() && !left.isZero()) {
            aggregator.backingOff(status, generation, o, "PodFailed", message, Math.max(1, left.toSeconds()));
            return left;
        }
        aggregator.attemptFailed(status, generation, o, "PodFailed", message, false);
        startAttempt(job, status, generation, o.attempt() + 1, client);
        return null;
    }

    static String preemptionReason(AttemptObservation o) {
        if (o.disruption() != null && PREEMPTION_REASONS.contains(o.disruption())) {
            return o.disruption();
        }
        if (o.exitCode() != null && o.exitCode() == ExitCodes.PREEMPTED) {
            return "TrainerPreempted";
        }
        return null;
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

    private void startAttempt(TrainingJob job, TrainingJobStatus status, long generation, int attempt,
            KubernetesClient client) {
        Pod pod = apply(client, JobResources.pod(job, attempt, settings));
        if (pods != null) {
            // Read our own write: the next reconcile sees the pod even before the informer does.
            pods.handleRecentResourceCreate(ResourceID.fromResource(pod), pod);
        }
        aggregator.attemptStarted(status, generation, attempt);
        LOG.infof("%s/%s: attempt %d started (pod %s)", job.getMetadata().getNamespace(), job.getMetadata().getName(),
                attempt, pod.getMetadata().getName());
    }

    private static <T extends HasMetadata> T apply(KubernetesClient client, T desired) {
        return client.resource(desired).fieldManager(Labels.FIELD_MANAGER).forceConflicts().serverSideApply();
    }

    private static UpdateControl<TrainingJob> write(TrainingJob job, TrainingJobStatus before, TrainingJobStatus after) {
        if (JSON.valueToTree(before).equals(JSON.valueToTree(after))) {
            return UpdateControl.noUpdate();
        }
        job.setStatus(after);
        return UpdateControl.patchStatus(job);
    }
}
