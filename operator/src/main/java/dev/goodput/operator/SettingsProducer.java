package dev.goodput.operator;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/** Builds {@link OperatorSettings} from application.properties for the Quarkus app. */
@ApplicationScoped
public class SettingsProducer {
    @ConfigProperty(name = "goodput.trainer.image", defaultValue = OperatorSettings.DEFAULT_IMAGE)
    String image;

    @ConfigProperty(name = "goodput.failure-backoff", defaultValue = "10s")
    Duration failureBackoff;

    @ConfigProperty(name = "goodput.max-failure-backoff", defaultValue = "5m")
    Duration maxFailureBackoff;

    @ConfigProperty(name = "goodput.grace-period.min", defaultValue = "30s")
    Duration minGrace;

    @ConfigProperty(name = "goodput.grace-period.max", defaultValue = "10m")
    Duration maxGrace;

    @ConfigProperty(name = "goodput.checkpoint.storage", defaultValue = "10Gi")
    String storage;

    @ConfigProperty(name = "goodput.progress.interval", defaultValue = "5s")
    Duration progressInterval;

    @ConfigProperty(name = "goodput.progress.timeout", defaultValue = "2s")
    Duration progressTimeout;

    @Produces
    @Singleton // a record cannot be proxied, so not @ApplicationScoped
    OperatorSettings settings() {
        return new OperatorSettings(image, failureBackoff, maxFailureBackoff, minGrace, maxGrace, storage, progressInterval,
                progressTimeout);
    }
}
