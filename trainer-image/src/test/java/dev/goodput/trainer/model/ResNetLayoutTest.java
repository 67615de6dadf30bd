package dev.goodput.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import dev.goodput.trainer.TestJobs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
            Block ours = ResNetBuilder.cifar(20, 16, 10);
            assertThat(ours).isInstanceOf(ChannelsLastSequential.class);
            SameNetwork.assertSameFunction(m, ours, ResNetBuilder.cifar(20, 16, 10, new SequentialBlock()), 8, 1e-4);
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
}
