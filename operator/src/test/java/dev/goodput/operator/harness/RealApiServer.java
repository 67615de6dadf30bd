package dev.goodput.operator.harness;

import io.fabric8.kubernetes.client.KubernetesClient;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: {@code @ExtendWith(RealApiServer.class)} gives a test class the JVM-wide real apiserver
 * ({@link TestApiServer}, started once per test JVM with the CRD applied) and resolves parameters of type
 * {@link TestApiServer} and {@link KubernetesClient} (one client per test class, closed after it). Without the
 * binaries every test of the class fails with a message saying how to build them.
 */
public class RealApiServer implements BeforeAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RealApiServer.class);

    @Override
    public void beforeAll(ExtensionContext context) {
        TestApiServer.get();
    }

    @Override
    public boolean supportsParameter(ParameterContext p, ExtensionContext e) {
        Class<?> type = p.getParameter().getType();
        return type == TestApiServer.class || type == KubernetesClient.class;
    }

    @Override
    public Object resolveParameter(ParameterContext p, ExtensionContext e) {
        TestApiServer api = TestApiServer.get();
        if (p.getParameter().getType() == TestApiServer.class) {
            return api;
        }
        ExtensionContext classContext = e.getTestClass().isPresent() && e.getTestMethod().isPresent()
                ? e.getParent().orElse(e) : e;
        return classContext.getStore(NS).getOrComputeIfAbsent("client",
                k -> new ClosableClient(api.newClient()), ClosableClient.class).client();
    }

    private record ClosableClient(KubernetesClient client) implements ExtensionContext.Store.CloseableResource {
        @Override
        public void close() {
            client.close();
        }
    }
}
