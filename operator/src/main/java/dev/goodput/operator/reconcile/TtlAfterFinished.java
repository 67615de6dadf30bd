package dev.goodput.operator.reconcile;

import dev.goodput.api.status.TrainingJobStatus;
import dev.goodput.operator.TrainingJob;
import dev.goodput.operator.status.StatusAggregator;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import org.jboss.logging.Logger;

/**
 * {@code spec.ttlSecondsAfterFinished}: a job finished (Succeeded or Failed, from {@code status.completionTime}) that
 * long ago is deleted, with what it owns (garbage collection through the owner references).
 */
public class TtlAfterFinished {
    private static final Logger LOG = Logger.getLogger(TtlAfterFinished.class);
    private final Clock clock;

    public TtlAfterFinished(Clock clock) {
        this.clock = clock;
    }

    /** Time left until the job is to be deleted (zero or negative: due), or null: not finished, or no TTL. */
    public Duration left(TrainingJob job, TrainingJobStatus status) {
        Integer ttl = job.getSpec().ttlSecondsAfterFinished;
        if (ttl == null || !StatusAggregator.finished(status) || status.completionTime == null) {
            return null;
        }
        return Duration.between(Instant.now(clock), Instant.parse(status.completionTime).plusSeconds(ttl));
    }

    /**
     * When to come back for the TTL, or null. A job that had finished before this reconcile is deleted once due; one
     * that finished just now comes back no sooner than {@code statusFirst}: its status must be written before it goes.
     */
    public Duration enforce(KubernetesClient client, TrainingJob job, TrainingJobStatus status, boolean finishedBefore,
            Duration statusFirst) {
        Duration left = left(job, status);
        if (left == null || !finishedBefore) {
            return left == null || left.compareTo(statusFirst) >= 0 ? left : statusFirst;
        }
        if (left.compareTo(Duration.ZERO) > 0) {
            return left;
        }
        LOG.infof("%s/%s: %s %s ago, ttlSecondsAfterFinished %d: deleting it", job.getMetadata().getNamespace(),
                job.getMetadata().getName(), status.phase,
                Duration.between(Instant.parse(status.completionTime), Instant.now(clock)).toSeconds(),
                job.getSpec().ttlSecondsAfterFinished);
        try {
            client.resource(job).delete();
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                throw e;
            }
        }
        return null;
    }
}
