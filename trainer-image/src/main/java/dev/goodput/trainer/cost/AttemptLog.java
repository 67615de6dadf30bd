package dev.goodput.trainer.cost;

import dev.goodput.api.cost.CostToTarget;
import dev.goodput.trainer.checkpoint.CheckpointedState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;

/**
 * The job's attempts as the trainer sees them, a checkpointed component: for every trainer process of the job, the
 * seconds it had held its machine at its last snapshot and the price of that machine. The run report's cost and
 * cost-to-target are {@link CostToTarget} over these, the rule the operator's ledger applies to the pods' lifetimes.
 *
 * <p>What this can see is what the checkpoints record: a process's time after its last snapshot (the rest of a run
 * killed by SIGKILL or OOM, the exit after the final save) and the time its pod waited or pulled its image before the
 * JVM started are not in it. The machine is taken to be held from the process's start (as on a laptop); on a cluster
 * the operator's figure, from binding to the pod's end, is the authoritative one.
 */
public final class AttemptLog implements CheckpointedState<AttemptLog.State> {
    public static final Key<State> KEY = new Key<>("attempts", State.class);

    /**
     * One trainer process of the job.
     *
     * @param attempt        its attempt number (GOODPUT_ATTEMPT; on a laptop, where that is 0, counted on from the
     *                       attempts before it)
     * @param billedSeconds  process uptime at its last snapshot
     * @param pricePerHour   spec.cost.pricePerHour it ran under, or null (no price: no cost)
     * @param reachedTarget  the target was first met in this process
     */
    public record Attempt(int attempt, double billedSeconds, Double pricePerHour, boolean reachedTarget) {
        public CostToTarget.Attempt billed() {
            return new CostToTarget.Attempt(billedSeconds, pricePerHour, reachedTarget);
        }
    }

    /** The attempts in order, this process's last. */
    public record State(List<Attempt> attempts) {
        public State {
            attempts = List.copyOf(attempts);
        }
    }

    private final int attempt;
    private final long processStartMillis;
    private final Double pricePerHour;
    private final BooleanSupplier targetReached;
    private final LongSupplier clockMillis;
    private List<Attempt> before = List.of();
    private volatile List<Attempt> lastSaved = List.of();

    /**
     * @param attempt            this process's attempt number
     * @param processStartMillis when this process started (the JVM's start time)
     * @param pricePerHour       spec.cost.pricePerHour, or null
     * @param targetReached      whether the job's target has been met (by any attempt; restored ones included)
     * @param clockMillis        the wall clock
     */
    public AttemptLog(int attempt, long processStartMillis, Double pricePerHour, BooleanSupplier targetReached,
                      LongSupplier clockMillis) {
        this.attempt = attempt;
        this.processStartMillis = processStartMillis;
        this.pricePerHour = pricePerHour;
        this.targetReached = targetReached;
        this.clockMillis = clockMillis;
    }

    @Override
    public Key<State> key() {
        return KEY;
    }

    /** The attempts before this process, then this one billed up to now. */
    @Override
    public State save() {
        // The target is this process's only when no earlier attempt had met it (a pod restarted after success).
        boolean reachedHere = targetReached.getAsBoolean() && before.stream().noneMatch(Attempt::reachedTarget);
        double seconds = Math.max(0, (clockMillis.getAsLong() - processStartMillis) / 1000.0);
        List<Attempt> all = new ArrayList<>(before);
        all.add(new Attempt(number(), seconds, pricePerHour, reachedHere));
        State s = new State(all);
        lastSaved = s.attempts();
        return s;
    }

    /**
     * This process's attempt number: the operator's, which grows from one attempt to the next; on a laptop, where
     * every run says 0, one more than the last recorded, so the report tells the runs apart.
     */
    private int number() {
        return before.isEmpty() ? attempt : Math.max(attempt, before.get(before.size() - 1).attempt() + 1);
    }

    /** The attempts of the checkpoint resumed from: every process before this one. */
    @Override
    public void restore(State s) {
        before = s.attempts();
        lastSaved = before;
    }

    /** The attempts as the last snapshot recorded them (the restored ones before the first): what the report counts. */
    public List<Attempt> recorded() {
        return lastSaved;
    }
}
