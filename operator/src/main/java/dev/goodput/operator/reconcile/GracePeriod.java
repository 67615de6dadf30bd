package dev.goodput.operator.reconcile;

import dev.goodput.api.status.CheckpointRef;
import dev.goodput.operator.OperatorSettings;

/**
 * terminationGracePeriodSeconds of a trainer pod: the time from SIGTERM to SIGKILL must cover finishing the current
 * step and writing a checkpoint. Set explicitly by spec.checkpoint.gracePeriodSeconds, or derived from how long the
 * trainer's last save took (status.lastCheckpoint.saveSeconds): twice that plus 15 s, within the operator's floor and
 * ceiling. Without a measurement yet, the floor.
 */
public final class GracePeriod {
    private GracePeriod() {}

    public static long seconds(Integer explicit, CheckpointRef last, OperatorSettings settings) {
        if (explicit != null) {
            return explicit;
        }
        long floor = settings.minGracePeriod().toSeconds();
        long ceiling = settings.maxGracePeriod().toSeconds();
        if (last == null || last.saveSeconds == null) {
            return floor;
        }
        long derived = (long) Math.ceil(2 * last.saveSeconds) + 15;
        return Math.max(floor, Math.min(ceiling, derived));
    }
}
