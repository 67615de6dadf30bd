package dev.goodput.operator.harness;

import java.util.Locale;
import java.util.Map;

/**
 * Fake: OpenCost's per-node price series (node_gpu_hourly_cost, node_cpu_hourly_cost, dollars per hour per GPU and
 * per vCPU, labelled node and instance_type as OpenCost labels them), for nodes that exist only in the stand-in
 * kubelet. OpenCost itself needs a cloud pricing source and node-exporter, which cannot exist here.
 */
public final class FakeOpenCostExporter implements AutoCloseable {
    private final TextEndpoint endpoint;

    /** @param prices node → {gpuHourly, cpuHourly} */
    public FakeOpenCostExporter(Map<String, double[]> prices) {
        StringBuilder text = new StringBuilder();
        text.append("# HELP node_gpu_hourly_cost Hourly cost per GPU on this node\n# TYPE node_gpu_hourly_cost gauge\n");
        prices.forEach((node, p) -> text.append(String.format(Locale.ROOT,
                "node_gpu_hourly_cost{instance=\"%s\",instance_type=\"a3-highgpu-1g\",node=\"%s\"} %s%n", node, node, p[0])));
        text.append("# HELP node_cpu_hourly_cost Hourly cost per vCPU on this node\n# TYPE node_cpu_hourly_cost gauge\n");
        prices.forEach((node, p) -> text.append(String.format(Locale.ROOT,
                "node_cpu_hourly_cost{instance=\"%s\",instance_type=\"a3-highgpu-1g\",node=\"%s\"} %s%n", node, node, p[1])));
        String body = text.toString();
        endpoint = new TextEndpoint("/metrics", () -> body);
    }

    public String address() {
        return endpoint.address();
    }

    @Override
    public void close() {
        endpoint.close();
    }
}
