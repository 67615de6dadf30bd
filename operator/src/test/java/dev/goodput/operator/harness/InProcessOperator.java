package dev.goodput.operator.harness;

import dev.goodput.operator.OperatorSettings;
import dev.goodput.operator.TrainingJobReconciler;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.Operator;
import java.time.Duration;

/**
 * The operator's controller run in the test JVM with plain JOSDK (what QOSDK wires in the app), watching one
 * namespace of the test apiserver. Stop and start it again to play an operator restart.
 */
public final class InProcessOperator implements AutoCloseable {
    private final Operator operator;

    public InProcessOperator(KubernetesClient client, String namespace, OperatorSettings settings) {
        operator = new Operator(o -> o.withKubernetesClient(client).withCloseClientOnStop(false)
                .withReconciliationTerminationTimeout(Duration.ofSeconds(5)));
        operator.register(new TrainingJobReconciler(settings), c -> c.settingNamespace(namespace));
        operator.start();
    }

    @Override
    public void close() {
        operator.stop();
    }
}
