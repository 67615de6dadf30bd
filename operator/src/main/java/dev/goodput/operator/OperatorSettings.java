package dev.goodput.operator;

import java.time.Duration;

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
 * @param costRefresh          how often a job whose pod holds a node is reconciled again so that its cost in status and
 *                             on /q/metrics moves even when nothing else happens
 */
public record OperatorSettings(String defaultImage, Duration failureBackoff, Duration maxFailureBackoff,
        Duration minGracePeriod, Duration maxGracePeriod, String checkpointStorage, Duration progressInterval,
        Duration progressTimeout, Duration costRefresh) {

    public static final String DEFAULT_IMAGE = "ghcr.io/goodput/trainer:0.1.0";

    public static OperatorSettings defaults() {
        return new OperatorSettings(DEFAULT_IMAGE, Duration.ofSeconds(10), Duration.ofMinutes(5),
                Duration.ofSeconds(30), Duration.ofMinutes(10), "10Gi", Duration.ofSeconds(5), Duration.ofSeconds(2),
                Duration.ofSeconds(30));
    }

    public OperatorSettings withFailureBackoff(Duration d) {
        return new OperatorSettings(defaultImage, d, maxFailureBackoff, minGracePeriod, maxGracePeriod, checkpointStorage,
                progressInterval, progressTimeout, costRefresh);
    }

    public OperatorSettings withProgressInterval(Duration d) {
        return new OperatorSettings(defaultImage, failureBackoff, maxFailureBackoff, minGracePeriod, maxGracePeriod,
                checkpointStorage, d, progressTimeout, costRefresh);
    }

    public OperatorSettings withCostRefresh(Duration d) {
        return new OperatorSettings(defaultImage, failureBackoff, maxFailureBackoff, minGracePeriod, maxGracePeriod,
                checkpointStorage, progressInterval, progressTimeout, d);
    }
}
