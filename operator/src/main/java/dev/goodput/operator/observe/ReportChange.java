package dev.goodput.operator.observe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import java.util.List;
import java.util.Objects;

/**
 * Whether a trainer's new {@code /progress} answer is worth a reconcile now: what changes the job's phase, conditions,
 * attempt record or the operator's next decision. Steps, loss, throughput and the clock move with every answer; they
 * reach status with the job's next periodic reconcile (at most once per {@code goodput.status.interval}) and never
 * trigger one by themselves, so a running job costs the apiserver one status write a minute, not one per poll. A pure
 * function of the previous and the new report.
 */
public final class ReportChange {
    private static final ObjectMapper JSON = new ObjectMapper();
    /**
     * The report's fields whose change is acted on: the trainer's phase (tuning, training, checkpointing, done), a new
     * checkpoint, a failed save, the tuned batch, the target reached, where it resumed, the attempt, its exit, the trained model.
     */
    static final List<String> MEANINGFUL = List.of("phase", "attempt", "lastCheckpoint", "checkpointFailures",
            "checkpointError", "tunedBatch", "targetReached", "resumedFromStep", "exitCode", "model");

    private ReportChange() {}

    /** True for the first answer of a pod ({@code previous} null) and when any {@link #MEANINGFUL} field differs. */
    public static boolean meaningful(TrainerReport previous, TrainerReport latest) {
        if (previous == null) {
            return latest != null;
        }
        if (latest == null) {
            return false;
        }
        JsonNode a = JSON.valueToTree(previous);
        JsonNode b = JSON.valueToTree(latest);
        return MEANINGFUL.stream().anyMatch(f -> !Objects.equals(a.get(f), b.get(f)));
    }
}
