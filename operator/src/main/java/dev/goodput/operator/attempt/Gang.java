package dev.goodput.operator.attempt;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.operator.observe.AttemptObservation;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * One attempt's pods, by rank (spec.resources.workers of them; a missing one is observed as gone), and the one
 * observation that speaks for them all to {@link AttemptStateMachine}: its {@link #lead}. A gang trains as one process
 * group, so it lives and ends as one attempt:
 * <ul>
 *   <li>while every pod runs (or some have succeeded and the rest still run), rank 0 leads: its phase, its
 *       {@code /progress};</li>
 *   <li>once one pod has ended any other way (preempted, evicted, failed, gone), the gang is broken: the lead is that
 *       pod, marked {@link AttemptObservation#brokenBy}, and not ended until the others are, so the machine stops
 *       them (gracefully: rank 0 checkpoints) and starts no new attempt while one of them still runs;</li>
 *   <li>once all have ended, the lead is rank 0 if it succeeded (it wrote the model and the final report), else the
 *       one whose end is the gang's: {@link #cause}. One ended attempt is one outcome, so a preemption of one pod
 *       is one preemption and a failure of one pod one failure, whatever its peers did after it.</li>
 * </ul>
 * Whichever pod leads, the trainer's reports it carries are rank 0's ({@link #reportedBy}). With one pod, that pod is
 * the lead, as before gangs existed.
 */
public record Gang(List<AttemptObservation> members, AttemptObservation lead) {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static Gang of(List<AttemptObservation> byRank) {
        if (byRank.size() == 1) {
            return new Gang(byRank, byRank.get(0));
        }
        List<AttemptObservation> running = byRank.stream().filter(o -> !o.ended()).toList();
        List<AttemptObservation> broken = byRank.stream().filter(o -> o.ended() && !succeeded(o)).toList();
        AttemptObservation rankZero = byRank.get(0);
        if (running.isEmpty()) {
            return new Gang(byRank, succeeded(rankZero) ? rankZero : reportedBy(cause(broken), rankZero));
        }
        if (broken.isEmpty()) {
            return new Gang(byRank, rankZero.ended() ? reportedBy(running.get(0), rankZero) : rankZero);
        }
        AttemptObservation cause = cause(broken);
        return new Gang(byRank, reportedBy(cause, rankZero).brokenBy(cause.exists() ? cause.pod().getMetadata().getName()
                : "rank " + byRank.indexOf(cause)));
    }

    /**
     * The lead with the gang's trainer reports: rank 0 alone saves checkpoints and writes the run report, so its
     * steps, checkpoint and resume point are the attempt's, whichever pod's end decides the outcome. The message stays
     * the lead's own (none when it wrote none): why that pod ended is what a user reads, not rank 0's account of
     * being stopped for it.
     */
    static AttemptObservation reportedBy(AttemptObservation lead, AttemptObservation rankZero) {
        if (lead == rankZero || rankZero.report() == null && rankZero.live() == null) {
            return lead;
        }
        TrainerReport report = lead.report();
        if (rankZero.report() != null) {
            report = JSON.convertValue(rankZero.report(), TrainerReport.class); // the observer's object stays as parsed
            report.message = lead.report() == null ? null : lead.report().message;
            report.exitCode = lead.report() == null ? null : lead.report().exitCode;
        }
        return lead.withReports(report, rankZero.live() != null ? rankZero.live() : lead.live());
    }

    /**
     * Whose end is the gang's, among the pods that ended other than by succeeding: one whose checkpoint failed (work
     * was lost: a failure, even in a pod the operator stopped); then, among the pods the operator did not stop because
     * another had ended: one that refused its configuration (no attempt can run); one preempted from outside (a
     * DisruptionTarget, deleted, gone: its peers' own ends, a lost peer, follow from it); one that failed; one that
     * stopped with the trainer's preemption exit code on its own (it stopped because its gang did); then the pods
     * stopped for the gang. The lowest rank among equals.
     */
    static AttemptObservation cause(List<AttemptObservation> ended) {
        return ended.stream().min(Comparator.comparingInt(Gang::weight)).orElseThrow();
    }

    private static int weight(AttemptObservation o) {
        if (Objects.equals(o.exitCode(), ExitCodes.CHECKPOINT_FAILED)) return 0;
        if (AttemptStateMachine.STOP_GANG.equals(o.stopReason())) return 5;
        if (Objects.equals(o.exitCode(), ExitCodes.CONFIG_ERROR)) return 1;
        String preemption = AttemptStateMachine.preemptionReason(o);
        if (preemption == null) return 3;
        return AttemptStateMachine.TRAINER_PREEMPTED.equals(preemption) ? 4 : 2;
    }

    private static boolean succeeded(AttemptObservation o) {
        return o.exists() && "Succeeded".equals(o.phase());
    }

    /**
     * The pods to stop for {@code reason}: those that have not ended. A gang restart leaves out those already being
     * deleted: they are stopping already, and the reason on them (a suspension, a stall) or their preemption stays
     * theirs, so that it still decides the gang's outcome.
     */
    public List<Pod> toStop(String reason) {
        return members.stream().filter(o -> !o.ended() && o.exists())
                .filter(o -> !(AttemptStateMachine.STOP_GANG.equals(reason) && o.deleting()))
                .map(AttemptObservation::pod).toList();
    }

    /** The gang's pods that are Ready (and not being deleted). */
    public int ready() {
        return (int) members.stream().filter(o -> o.exists() && !o.deleting() && o.pod().getStatus() != null
                && o.pod().getStatus().getConditions().stream()
                        .anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()))).count();
    }

    /** The last end among its pods (the container's finishedAt), once all have ended; null before or when unknown. */
    public String lastEnd() {
        if (members.stream().anyMatch(o -> !o.ended())) {
            return null;
        }
        return members.stream().filter(AttemptObservation::exists).map(o -> o.pod().getStatus())
                .filter(Objects::nonNull).flatMap(s -> s.getContainerStatuses().stream())
                .map(c -> c.getState() == null ? null : c.getState().getTerminated()).filter(Objects::nonNull)
                .map(t -> t.getFinishedAt()).filter(Objects::nonNull).max(Comparator.naturalOrder()).orElse(null);
    }
}
