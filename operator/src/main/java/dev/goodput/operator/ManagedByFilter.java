package dev.goodput.operator;

import io.javaoperatorsdk.operator.processing.event.source.filter.GenericFilter;

/**
 * Keeps every event of a TrainingJob whose {@code spec.managedBy} names another controller (Kueue MultiKueue) away
 * from the reconciler, so the operator never touches such a job: no finalizer, no status, no pods. spec.managedBy is
 * immutable (a CEL rule), so a job never changes sides.
 */
public class ManagedByFilter implements GenericFilter<TrainingJob> {
    @Override
    public boolean accept(TrainingJob job) {
        return Labels.managedHere(job.getSpec() == null ? null : job.getSpec().managedBy);
    }
}
