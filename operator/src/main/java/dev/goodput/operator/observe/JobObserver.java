package dev.goodput.operator.observe;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.operator.Labels;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import java.util.Collection;
import java.util.Comparator;
import java.util.Optional;

/**
 * Observe: reads the job's pods (from the operator's informer cache, never the API) and reduces the one of an
 * attempt to an {@link AttemptObservation}. No decisions here.
 */
public class JobObserver {
    public static final String TRAINER_CONTAINER = "trainer";
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public AttemptObservation observe(Collection<Pod> pods, int attempt) {
        return pods.stream().filter(p -> String.valueOf(attempt).equals(label(p, Labels.ATTEMPT)))
                .max(Comparator.comparing(p -> p.getMetadata().getCreationTimestamp(), Comparator.nullsFirst(Comparator.naturalOrder())))
                .map(p -> observe(p, attempt)).orElse(AttemptObservation.none(attempt));
    }

    AttemptObservation observe(Pod pod, int attempt) {
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
        boolean deleting = pod.getMetadata().getDeletionTimestamp() != null;
        return new AttemptObservation(attempt, pod, phase, exitCode, report, disruption, waiting, waitingMessage, deleting);
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

    private static String label(Pod p, String key) {
        return p.getMetadata().getLabels() == null ? null : p.getMetadata().getLabels().get(key);
    }
}
