package dev.goodput.trainer.model.torchscript;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Map;

/**
 * What src/test/python/torchscript_reference.py computed in PyTorch: the example network trained 20 steps, its
 * losses, its eval-mode logits on the first test examples afterwards and its buffers.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
record Reference(int threads, long seed, int batch, int steps, double lr, double beta1, double beta2, double eps, double weightDecay,
                 float mean, float std, double[] losses, double[][] testLogits, Map<String, List<Double>> buffers) {

    static Reference load() throws IOException {
        try (InputStream in = Reference.class.getResourceAsStream("torchscript_reference.json")) {
            if (in == null) throw new IOException("torchscript_reference.json is not on the test classpath");
            return new ObjectMapper().readValue(in, Reference.class);
        }
    }
}
