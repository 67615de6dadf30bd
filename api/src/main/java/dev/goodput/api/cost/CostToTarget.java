package dev.goodput.api.cost;

import java.util.List;

/**
 * The one definition of cost-to-target, shared by the operator's ledger (from the pods' lifetimes) and the trainer's
 * run report (from what its checkpoints record): the cost of every attempt up to and including the first one that
 * reached the target. Attempts before the target are paid for whether their work was kept or lost, so they count; the
 * attempts after it (a pod restarted after success) do not.
 *
 * <p>A pure function of the attempts in order: both sides only differ in how they measure an attempt's billed seconds.
 */
public final class CostToTarget {
    private CostToTarget() {}

    /**
     * One attempt as it is billed.
     *
     * @param billedSeconds  seconds the attempt held its machine
     * @param pricePerHour   dollars per hour of that machine; null when no price is known, which bills nothing (the
     *                       job has no price, so no cost: 0, never a guess)
     * @param reachedTarget  the target was first met in this attempt
     */
    public record Attempt(double billedSeconds, Double pricePerHour, boolean reachedTarget) {
        /** Dollars this attempt cost; 0 without a price. */
        public double cost() {
            // Seconds times the per-second price, in this order: the operator's figures have always been computed so.
            return pricePerHour == null ? 0 : billedSeconds * (pricePerHour / 3600.0);
        }
    }

    /** Dollars up to and including the first attempt that reached the target; null when none has. */
    public static Double dollars(List<Attempt> attempts) {
        return dollars(0, attempts);
    }

    /**
     * As {@link #dollars(List)} for attempts that follow earlier ones no longer listed one by one (the operator folds
     * the oldest attempt records into sums). Those earlier attempts are taken not to have reached the target: the
     * attempt that reaches it ends the job, and the operator folds only attempts with 20 newer ones after them.
     *
     * @param before dollars of the earlier attempts
     */
    public static Double dollars(double before, List<Attempt> attempts) {
        double spent = before;
        for (Attempt a : attempts) {
            spent += a.cost();
            if (a.reachedTarget()) return spent;
        }
        return null;
    }

    /** Dollars of all the attempts, reached target or not. */
    public static double total(List<Attempt> attempts) {
        double spent = 0;
        for (Attempt a : attempts) spent += a.cost();
        return spent;
    }
}
