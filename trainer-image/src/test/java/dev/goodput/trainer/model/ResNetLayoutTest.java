package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.loop.Losses;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The ResNets run channels-last from width 16 and NCHW below it, where libtorch's oneDNN crashes in its 1x1
 * weight-gradient kernel on channels-last input; either layout computes the same network.
 */
class ResNetLayoutTest {

    @ParameterizedTest(name = "width {0}: channels-last {1}")
    @CsvSource({"4, false", "8, false", "12, false", "15, false", "16, true", "32, true", "64, true"})
    void theLayoutFollowsTheWidth(int width, boolean channelsLast) {
        assertThat(ResNetBuilder.layoutFor(width) instanceof ChannelsLastSequential).isEqualTo(channelsLast);
        assertThat(ResNetBuilder.cifar(20, width, 10) instanceof ChannelsLastSequential).isEqualTo(channelsLast);
        assertThat(ResNetBuilder.imagenet(18, width, 10) instanceof ChannelsLastSequential).isEqualTo(channelsLast);
    }

    @Test
    void channelsLastResNet20ComputesWhatTheNchwOneComputes() {
        Engine engine = Engine.getEngine("PyTorch");
        engine.setRandomSeed(11);
        try (NDManager m = NDManager.newBaseManager(engine.defaultDevice(), "PyTorch")) {
            Shape input = new Shape(1, 1, 28, 28);
            Block ours = ResNetBuilder.cifar(20, 16, 10);
            Block nchw = ResNetBuilder.cifar(20, 16, 10, new SequentialBlock());
            assertThat(ours).isInstanceOf(ChannelsLastSequential.class);
            ours.initialize(m, DataType.FLOAT32, input);
            nchw.initialize(m, DataType.FLOAT32, input);
            List<String> names = ours.getParameters().keys();
            assertThat(names).as("the parameter names a checkpoint holds").containsExactlyElementsOf(nchw.getParameters().keys());
            Map<String, Parameter> theirs = new HashMap<>();
            for (Pair<String, Parameter> p : nchw.getParameters()) theirs.put(p.getKey(), p.getValue());
            for (Pair<String, Parameter> p : ours.getParameters()) theirs.get(p.getKey()).getArray().set(p.getValue().getArray().toFloatArray());

            NDArray x = m.randomNormal(new Shape(8, 1, 28, 28));
            NDArray y = m.randomInteger(0, 10, new Shape(8), DataType.INT64);
            float[] ourLogits = step(m, ours, x, y);
            float[] theirLogits = step(m, nchw, x, y);
            assertThat(maxDifference(ourLogits, theirLogits)).as("logits").isLessThan(1e-4);
            for (String name : names) {
                if (!ours.getParameters().get(name).requiresGradient()) continue; // BatchNorm's running statistics
                float[] g1 = ours.getParameters().get(name).getArray().getGradient().toFloatArray();
                float[] g2 = theirs.get(name).getArray().getGradient().toFloatArray();
                double scale = 0;
                for (float v : g2) scale = Math.max(scale, Math.abs(v));
                assertThat(maxDifference(g1, g2)).as("gradient of %s", name).isLessThanOrEqualTo(1e-4 * Math.max(1, scale));
            }
        }
    }

    /**
     * Each configuration crashed the process (SIGSEGV in oneDNN, exit 134) when every width ran channels-last; now
     * the narrow ones run NCHW, and width 16 runs channels-last with the same threads and batch. Child processes, as
     * a crash must not take the test JVM with it.
     */
    @ParameterizedTest(name = "ResNet-20 width {0}, {1} threads, batch {2}")
    @CsvSource({"8, 3, 8", "8, 4, 126", "12, 4, 126", "16, 4, 126"})
    void trainingStepsRunAtWidthsThatCrashedChannelsLast(int width, int threads, int batch, @TempDir Path dir) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "-Dai.djl.offline=true", "-XX:TieredStopAtLevel=1", "-XX:ErrorFile=" + dir.resolve("hs_err_%p.log"), "-cp", System.getProperty("java.class.path"),
                "dev.goodput.trainer.cli.TrainerCli", "bench", "--model", "resnet20", "--width", "" + width,
                "--threads", "" + threads, "--batch", "" + batch, "--steps", "2", "--warmup", "1",
                "--data", TestJobs.FASHION_MNIST.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = output(p);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("finished in 120 s").isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("\"model\":\"resnet20\"");
    }

    private static String output(Process p) throws IOException {
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static float[] step(NDManager m, Block block, NDArray x, NDArray y) {
        try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
            NDArray logits = block.forward(new ParameterStore(m, false), new NDList(x), true).singletonOrThrow();
            gc.backward(Losses.crossEntropy(logits, y));
            return logits.toFloatArray();
        }
    }

    private static double maxDifference(float[] a, float[] b) {
        double max = 0;
        for (int i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i] - b[i]));
        return max;
    }
}
