package dev.goodput.operator.observe;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.operator.Labels;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Observe: reads the job's pods (from the operator's informer cache, never the API) and the trainer's latest
 * {@code /progress} (from {@link ProgressPoller}'s cache), and reduces each pod of an attempt to an
 * {@link AttemptObservation}, by rank. No decisions here.
 */
public class JobObserver {
    public static final String TRAINER_CONTAINER = "trainer";
    /** A pod still not gone this long after its deletionTimestamp sits on a node that no longer answers. */
    static final Duration NODE_LOST_AFTER = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Clock clock;

    public JobObserver(Clock clock) {
        this.clock = clock;
    }

    public AttemptObservation observe(Collection<Pod> pods, int attempt, ProgressSample sample) {
        return pods.stream().filter(p -> attempt == attemptOf(p))
                .max(Comparator.comparing(p -> p.getMetadata().getCreationTimestamp(), Comparator.nullsFirst(Comparator.naturalOrder())))
                .map(p -> observe(p, attempt, sample)).orElse(AttemptObservation.none(attempt));
    }

    /**
     * Attempt {@code attempt}'s pods by rank (label goodput.dev/rank, 0 without one): as many as the pods' WORLD_SIZE
     * says (1 without it: pods from before gangs), a rank without a pod observed as gone. Reduced by
     * {@code attempt.Gang}.
     */
    public List<AttemptObservation> observeRanks(Collection<Pod> pods, int attempt, ProgressSample sample) {
        List<Pod> ofAttempt = pods.stream().filter(p -> attempt == attemptOf(p)).toList();
        int worldSize = ofAttempt.stream().mapToInt(JobObserver::worldSizeOf).max().orElse(1);
        List<AttemptObservation> byRank = new ArrayList<>();
        for (int rank = 0; rank < worldSize; rank++) {
            int r = rank;
            byRank.add(observe(ofAttempt.stream().filter(p -> rankOf(p) == r).toList(), attempt, sample));
        }
        return byRank;
    }

    public AttemptObservation observe(Pod pod, int attempt, ProgressSample sample) {
        var status = pod.getStatus();
        String phase = status == null || status.getPhase() == null ? "Pending" : status.getPhase();
        Optional<ContainerStatus> trainer = status == null ? Optional.empty() : status.getContainerStatuses().stream()
                .filter(c -> TRAINER_CONTAINER.equals(c.getName())).findFirst();
        var terminated = trainer.map(ContainerStatus::getState).map(s -> s.getTerminated());
        Integer exitCode = terminated.map(t -> t.getExitCode()).orElse(null);
        TrainerReport report = terminated.map(t -> t.getMessage()).map(JobObserver::parse).orElse(null);
        String disruption = condition(pod, "DisruptionTarget").filter(c -> "True".equals(c.getStatus()))
                .map(PodCondition::getReason).orElse(null);
        String waiting = null;
        String waitingMessage = null;
        Optional<PodCondition> scheduled = condition(pod, "PodScheduled");
        if (scheduled.isPresent() && "False".equals(scheduled.get().getStatus())) {
            waiting = scheduled.get().getReason();
            waitingMessage = scheduled.get().getMessage();
        } else {
            var w = trainer.map(ContainerStatus::getState).map(s -> s.getWaiting());
            if (w.isPresent() && w.get().getReason() != null) {
                waiting = w.get().getReason();
                waitingMessage = w.get().getMessage();
            }
        }
        String deletionTimestamp = pod.getMetadata().getDeletionTimestamp();
        boolean deleting = deletionTimestamp != null;
        boolean terminal = "Succeeded".equals(phase) || "Failed".equals(phase);
        boolean ended = terminal || deleting && (pod.getSpec() == null || pod.getSpec().getNodeName() == null
                || "Pending".equals(phase)
                || Instant.now(clock).isAfter(Instant.parse(deletionTimestamp).plus(NODE_LOST_AFTER)));
        TrainerReport live = sample != null && !terminal && sample.podUid().equals(pod.getMetadata().getUid())
                ? sample.report() : null;
        String stopReason = pod.getMetadata().getAnnotations() == null ? null
                : pod.getMetadata().getAnnotations().get(Labels.STOP_REASON);
        return new AttemptObservation(attempt, pod, phase, exitCode, report, live, disruption, waiting, waitingMessage,
                deleting, ended, stopReason, null);
    }

    /** The pod's attempt number (label goodput.dev/attempt), or -1. */
    public static int attemptOf(Pod p) {
        return number(p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(Labels.ATTEMPT), -1);
    }

    /** The pod's rank in its gang (label goodput.dev/rank), 0 without one (a job with one worker). */
    static int rankOf(Pod p) {
        return number(p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(Labels.RANK), 0);
    }

    /** The WORLD_SIZE the operator gave the pod's trainer, 1 without one. */
    static int worldSizeOf(Pod p) {
        return p.getSpec() == null ? 1 : p.getSpec().getContainers().stream()
                .filter(c -> TRAINER_CONTAINER.equals(c.getName())).flatMap(c -> c.getEnv().stream())
                .filter(e -> "WORLD_SIZE".equals(e.getName())).findFirst().map(e -> number(e.getValue(), 1)).orElse(1);
    }

    private static int number(String v, int otherwise) {
        try {
            return v == null ? otherwise : Integer.parseInt(v);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /** The trainer's JSON exit summary; a message that is not one is kept as the report's message. */
    static TrainerReport parse(String message) {
        if (message == null || message.isBlank()) {
            return null;
        }
        try {
            return JSON.readValue(message, TrainerReport.class);
        } catch (Exception e) {
            TrainerReport r = new TrainerReport();
            r.message = message.strip();
            return r;
        }
    }

    private static Optional<PodCondition> condition(Pod pod, String type) {
        return pod.getStatus() == null ? Optional.empty() : pod.getStatus().getConditions().stream()
                .filter(c -> type.equals(c.getType())).findFirst();
    }
}
