package dev.goodput.trainer.metrics;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.goodput.api.status.TrainerReport;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The trainer's HTTP side: /metrics in Prometheus text, /progress as JSON of the status fields the
 * trainer owns, /healthz. The JDK's server is enough for three small endpoints polled every few seconds.
 */
public final class StatusServer implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpServer server;

    public StatusServer(int port, PrometheusRegistry registry, Supplier<TrainerReport> progress) throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 16);
        PrometheusTextFormatWriter text = new PrometheusTextFormatWriter(false);
        server.createContext("/metrics", ex -> {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            text.write(out, registry.scrape());
            send(ex, 200, PrometheusTextFormatWriter.CONTENT_TYPE, out.toByteArray());
        });
        server.createContext("/progress", ex -> send(ex, 200, "application/json", JSON.writeValueAsBytes(progress.get())));
        server.createContext("/healthz", ex -> send(ex, 200, "text/plain", "ok\n".getBytes()));
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "goodput-status-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(code, body.length);
        try (OutputStream os = ex.getResponseBody()) {
            os.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
