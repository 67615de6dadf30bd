package dev.goodput.operator;

import io.fabric8.kubernetes.api.model.Toleration;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The operator's own knobs, read from application.properties (goodput.*) in the app and built directly in tests.
 *
 * @param defaultImage         trainer image when spec.image is empty
 * @param failureBackoff       delay before the attempt after the first failure; doubles with each failure
 * @param maxFailureBackoff    ceiling of that delay
 * @param minGracePeriod       floor of the pod's terminationGracePeriodSeconds
 * @param maxGracePeriod       ceiling of it
 * @param checkpointStorage    size of the checkpoint claim the operator creates
 * @param progressInterval     how often a running trainer's {@code /progress} is polled
 * @param progressTimeout      connect and response timeout of one poll
 * @param statusInterval       how often a job whose pod holds a node is reconciled with nothing else happening, and
 *                             the least time between two status writes of a job that differ only in its telemetry
 *                             (progress, cost, accounting); a change of phase, condition, attempt, checkpoint or
 *                             tuned batch is written at once. /q/metrics computes cost when scraped
 * @param scheduling           how spec.resources.gpuType and spot place a pod on nodes
 */
public record OperatorSettings(String defaultImage, Duration failureBackoff, Duration maxFailureBackoff,
        Duration minGracePeriod, Duration maxGracePeriod, String checkpointStorage, Duration progressInterval,
        Duration progressTimeout, Duration statusInterval, Scheduling scheduling) {

    /**
     * Node placement from the spec's words: {@code gpuType: X} becomes the node selector {@code gpuTypeNodeLabel: X}
     * (blank: gpuType only prices), {@code spot: true} adds {@code spotNodeSelector} and {@code spotTolerations}. The
     * defaults are Goodput's own labels; a platform points them at its provider's (GKE's
     * {@code cloud.google.com/gke-accelerator}, Karpenter's {@code karpenter.sh/capacity-type: spot}, ...). A job's
     * own {@code resources.nodeSelector} wins over both.
     */
    public record Scheduling(String gpuTypeNodeLabel, Map<String, String> spotNodeSelector, List<Toleration> spotTolerations) {
        public static final String GPU_TYPE_LABEL = "goodput.dev/gpu-type";
        public static final String CAPACITY_TYPE_LABEL = "goodput.dev/capacity-type";

        public static Scheduling defaults() {
            return new Scheduling(GPU_TYPE_LABEL, Map.of(CAPACITY_TYPE_LABEL, "spot"), List.of());
        }
    }

    public static final String DEFAULT_IMAGE = "ghcr.io/goodput/trainer:0.1.0";

    public static OperatorSettings defaults() {
        return new OperatorSettings(DEFAULT_IMAGE, Duration.ofSeconds(10), Duration.ofMinutes(5),
                Duration.ofSeconds(30), Duration.ofMinutes(10), "10Gi", Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(60), Scheduling.defaults());
    }

    public OperatorSettings withFailureBackoff(Duration d) {
        return new OperatorSettings(defaultImage, d, maxFailureBackoff, minGracePeriod, maxGracePeriod, checkpointStorage,
                progressInterval, progressTimeout, statusInterval, scheduling);
    }

    public OperatorSettings withProgressInterval(Duration d) {
        return new OperatorSettings(defaultImage, failureBackoff, maxFailureBackoff, minGracePeriod, maxGracePeriod,
                checkpointStorage, d, progressTimeout, statusInterval, scheduling);
    }

    public OperatorSettings withScheduling(Scheduling s) {
        return new OperatorSettings(defaultImage, failureBackoff, maxFailureBackoff, minGracePeriod, maxGracePeriod,
                checkpointStorage, progressInterval, progressTimeout, statusInterval, s);
    }

    public OperatorSettings withStatusInterval(Duration d) {
        return new OperatorSettings(defaultImage, failureBackoff, maxFailureBackoff, minGracePeriod, maxGracePeriod,
                checkpointStorage, progressInterval, progressTimeout, d, scheduling);
    }
}
