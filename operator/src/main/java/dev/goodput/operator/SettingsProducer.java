package dev.goodput.operator;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.operator.cost.PriceTable;
import io.fabric8.kubernetes.api.model.Toleration;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.javaoperatorsdk.operator.api.monitoring.Metrics;
import io.javaoperatorsdk.operator.monitoring.micrometer.MicrometerMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.arc.Unremovable;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/** Builds {@link OperatorSettings} from application.properties, and the {@link PriceTable}, for the Quarkus app. */
@ApplicationScoped
public class SettingsProducer {
    private static final Logger LOG = Logger.getLogger(SettingsProducer.class);

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

    /**
     * How often a job whose pod holds a node is reconciled with nothing else happening, and the least time between two
     * status writes that differ only in progress, cost and accounting.
     */
    @ConfigProperty(name = "goodput.status.interval", defaultValue = "60s")
    Duration statusInterval;

    /** Node label that spec.resources.gpuType selects on; "none": gpuType only chooses the price. */
    @ConfigProperty(name = "goodput.scheduling.gpu-type-node-label", defaultValue = OperatorSettings.Scheduling.GPU_TYPE_LABEL)
    String gpuTypeNodeLabel;

    /** Node selector of spot jobs as JSON, e.g. {"karpenter.sh/capacity-type":"spot"}; {} for none. */
    @ConfigProperty(name = "goodput.scheduling.spot.node-selector", defaultValue = "{\"" + OperatorSettings.Scheduling.CAPACITY_TYPE_LABEL + "\":\"spot\"}")
    String spotNodeSelector;

    /** Tolerations of spot jobs as a JSON list of Kubernetes tolerations. */
    @ConfigProperty(name = "goodput.scheduling.spot.tolerations", defaultValue = "[]")
    String spotTolerations;

    @Produces
    @Singleton // a record cannot be proxied, so not @ApplicationScoped
    OperatorSettings settings() {
        return new OperatorSettings(image, failureBackoff, maxFailureBackoff, minGrace, maxGrace, storage, progressInterval,
                progressTimeout, statusInterval, scheduling());
    }

    private OperatorSettings.Scheduling scheduling() {
        try {
            ObjectMapper json = new ObjectMapper();
            Map<String, String> selector = json.readValue(spotNodeSelector, new TypeReference<Map<String, String>>() {});
            List<Toleration> tolerations = json.readValue(spotTolerations, new TypeReference<List<Toleration>>() {});
            String label = "none".equals(gpuTypeNodeLabel.trim()) ? null : gpuTypeNodeLabel.trim();
            return new OperatorSettings.Scheduling(label, selector, tolerations);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("goodput.scheduling.spot.*: not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    @ConfigProperty(name = "goodput.leader-election.lease-name", defaultValue = "goodput-operator")
    String leaseName;

    @ConfigProperty(name = "goodput.leader-election.lease-namespace")
    Optional<String> leaseNamespace;

    /**
     * Leader election through a Lease, so that more than one replica is safe: only the holder reconciles. QOSDK uses
     * this bean in the profiles of {@code quarkus.operator-sdk.activate-leader-election-for-profiles} (prod, i.e. the
     * packaged app; not tests). The chart names the lease after the release ({@code GOODPUT_LEADER_ELECTION_LEASE_NAME});
     * its namespace is the client's, i.e. the operator pod's ({@code KUBERNETES_NAMESPACE}), unless set.
     */
    @Produces
    @Singleton
    @Unremovable // looked up by QOSDK at start, never injected
    LeaderElectionConfiguration leaderElection() {
        return new LeaderElectionConfiguration(leaseName, leaseNamespace.filter(n -> !n.isBlank()).orElse(null));
    }

    /**
     * JOSDK's reconcile metrics on /q/metrics, per controller rather than per TrainingJob (QOSDK's default): with a
     * thousand jobs the per-resource timers and their histograms were tens of thousands of series and a large part of
     * the operator's memory. Per-job figures are the goodput_trainingjob_* series ({@code OperatorMetrics}).
     */
    @Produces
    @Singleton
    Metrics josdkMetrics(MeterRegistry registry) {
        return MicrometerMetrics.withoutPerResourceMetrics(registry);
    }

    /**
     * The price table the Helm chart mounts ({@value PriceTable#ENV}); empty without it (then only jobs with
     * spec.cost.pricePerHour are priced). A file that is named but missing or invalid stops the operator at start,
     * with a message naming the file and the bad entry.
     */
    @Produces
    @Singleton
    PriceTable prices() {
        PriceTable prices = PriceTable.fromEnvironment(System.getenv());
        LOG.infof("price table: %s", prices);
        return prices;
    }
}
