package dev.goodput.operator.harness;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.util.Map;

/**
 * Points a {@code @QuarkusTest} app at the JVM's test apiserver ({@link TestApiServer}) and confines its operator to a
 * namespace of its own, so it never reconciles what other test classes create. The namespace is in the app's
 * config as {@value #NAMESPACE_PROPERTY}.
 */
public class ApiServerTestResource implements QuarkusTestResourceLifecycleManager {
    public static final String NAMESPACE_PROPERTY = "goodput.test.namespace";

    @Override
    public Map<String, String> start() {
        TestApiServer api = TestApiServer.get();
        String ns;
        try (KubernetesClient client = api.newClient()) {
            ns = api.createNamespace(client, "quarkus");
        }
        // fabric8's Config.autoConfigure (which the Quarkus client starts from) reads the kubeconfig property.
        System.setProperty("kubeconfig", api.kubeconfig().toString());
        return Map.of(
                "quarkus.operator-sdk.controllers.trainingjob.namespaces", ns,
                NAMESPACE_PROPERTY, ns,
                "quarkus.kubernetes-client.devservices.enabled", "false");
    }

    @Override
    public void stop() {
        // The apiserver belongs to the JVM (stopped by its shutdown hook).
    }
}
