package dev.goodput.operator.harness;

import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJobReconciler;
import dev.goodput.operator.cost.PriceTable;
import dev.goodput.operator.metrics.OperatorMetrics;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.config.LeaderElectionConfiguration;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;

/**
 * The operator's controller run in the test JVM with plain JOSDK (what QOSDK wires in the app), watching one
 * namespace of the test apiserver. Stop and start it again to play an operator restart. Give it a price table and an
 * {@link OperatorMetrics} on a Prometheus registry to look at cost and metrics; by default it has no prices and its
 * metrics go to a registry of its own.
 */
public final class InProcessOperator implements AutoCloseable {
    public static final String LEASE = "goodput-operator";
    private final Operator operator;

    public InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings) {
        this(client, namespace, settings, PriceTable.empty(), new OperatorMetrics(new SimpleMeterRegistry()));
    }

    public InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings, PriceTable prices,
            OperatorMetrics metrics) {
        this(client, namespace, settings, prices, metrics, null);
    }

    /**
     * With {@code leaseNamespace}, the operator elects itself leader through the Lease {@code goodput-operator} there
     * before it reconciles (as the packaged app does); losing the lease stops it without exiting the JVM.
     */
    public InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings, PriceTable prices,
            OperatorMetrics metrics, String leaseNamespace) {
        operator = new Operator(o -> {
            o.withKubernetesClient(client).withCloseClientOnStop(false)
                    .withReconciliationTerminationTimeout(Duration.ofSeconds(5));
            if (leaseNamespace != null) {
                o.withLeaderElectionConfiguration(new LeaderElectionConfiguration(LEASE, leaseNamespace,
                        LeaderElectionConfiguration.LEASE_DURATION_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RENEW_DEADLINE_DEFAULT_VALUE,
                        LeaderElectionConfiguration.RETRY_PERIOD_DEFAULT_VALUE, null, null, false));
            }
        });
        operator.register(new TrainingJobReconciler(settings, prices, metrics), c -> c.settingNamespace(namespace));
        operator.start();
    }

    @Override
    public void close() {
        operator.stop();
    }
}
