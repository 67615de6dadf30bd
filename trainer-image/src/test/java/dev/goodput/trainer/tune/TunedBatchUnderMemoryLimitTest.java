package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerProcess;
import dev.goodput.api.spec.Quantities;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tuner's chosen micro-batch never runs out of memory in the real run: every built-in model, in fp32 and (where
 * a CPU runs it in reasonable time) fp16, with AdamW and SGD, tunes against a memory budget and then trains in a
 * cgroup whose hard limit is that budget, as a container's would be. An overshoot is not a failed assertion but the
 * kernel's OOM killer (exit 137), which the test reads from the cgroup.
 */
class TunedBatchUnderMemoryLimitTest {
    /**
     * Each model at a width that keeps a 2-core CI run short, with a global batch its limit cannot hold in one pass,
     * so the budget binds: the tuner must find the micro-batch, and accumulation covers the rest. The limits sit 100
     * to 170 MiB above the trainer's own resident floor (JVM, libtorch, the data), measured here at 262 to 347 MiB.
     * The floor depends on the CPU, through the libtorch code each run touches: on an Intel Xeon with AVX-512 the MLP's
     * fp16 run's first probe (micro-batch 8) peaked at 306 MiB, and with the 350Mi it had before, its training peaked at 373 MiB resident (cgroup
     * peak 283 MiB, no OOM kill), over the RSS check below; the MLP's limit is 400Mi since.
     */
    record Cell(String model, Integer width, int globalBatch, int trainExamples, String limit) {}

    static final Map<String, Cell> CELLS = Map.of(
            "mlp", new Cell("mlp", null, 16384, 32768, "400Mi"),
            "cnn", new Cell("cnn", 16, 1024, 2048, "420Mi"),
            "resnet20", new Cell("resnet20", 8, 512, 2048, "450Mi"),
            "resnet18", new Cell("resnet18", 16, 1024, 2048, "400Mi"),
            "resnet50", new Cell("resnet50", 16, 1024, 2048, "520Mi"));

    /**
     * fp16 on CPU is correct but slow (libtorch has few fp16 CPU kernels: tuning the CNN at width 32 took 121 s against
     * 23 s in fp32), so the ResNets run it only on a GPU; every model runs fp32. ResNet-20 at width 8 ran fp16 here
     * until its tuning took 388 s (AdamW) on an Intel Xeon, against 7 to 11 s in fp32: two such cells were a quarter
     * of the CI's time.
     */
    static final List<String> FP16 = List.of("mlp", "cnn");

    static Stream<Arguments> cells() {
        List<Arguments> cells = new ArrayList<>();
        for (String model : List.of("mlp", "cnn", "resnet20", "resnet18", "resnet50")) {
            for (String precision : FP16.contains(model) ? List.of("fp32", "fp16") : List.of("fp32")) {
                for (String optimizer : List.of("adamw", "sgd")) cells.add(Arguments.of(model, precision, optimizer));
            }
        }
        return cells.stream();
    }

    @ParameterizedTest(name = "{0} {1} {2}")
    @MethodSource("cells")
    void theTunedMicroBatchTrainsUnderTheLimitItWasTunedTo(String model, String precision, String optimizer,
                                                           @TempDir Path dir) throws Exception {
        Cell cell = CELLS.get(model);
        String limit = cell.limit();
        long limitBytes = Quantities.bytes(limit);
        MemoryCgroup.Attempt attempt = MemoryCgroup.create(limitBytes);
        Assumptions.assumeTrue(attempt.cgroup().isPresent(), "no memory cgroup for the test: " + attempt.why());
        String yaml = TestJobs.yaml(model, cell.trainExamples(), "maxSteps: 2\nmemoryBudget: " + limit + "\nprecision: " + precision)
                .replace("    width: 8\n", cell.width() == null ? "" : "    width: " + cell.width() + "\n")
                .replace("globalBatchSize: 64", "globalBatchSize: " + cell.globalBatch())
                .replace("name: adamw", "name: " + optimizer).replace("testLimit: 1000", "testLimit: 256").replace("threads: 1", "threads: 2");
        Path manifest = Files.writeString(dir.resolve("job.yaml"), yaml);
        try (MemoryCgroup cg = attempt.cgroup().get();
             TrainerProcess p = TrainerProcess.start(cg.wrapper(), List.of("-XX:TieredStopAtLevel=1"), Map.of(), manifest,
                     dir.resolve("ckpt"), dir.resolve("t.json"))) {
            int exit = p.waitFor(600);
            String log = String.join("\n", p.lines());
            assertThat(cg.oomKills()).as("OOM kills in the cgroup\n" + log).isZero();
            assertThat(exit).as(log).isZero();
            String tuned = p.lines().stream().filter(l -> l.startsWith("tuning: largest fit")).findFirst().orElseThrow();
            TrainerReport report = new ObjectMapper().readValue(dir.resolve("t.json").toFile(), TrainerReport.class);
            System.out.printf("%s %s %s: %s; micro %d x %d; peak RSS %d MiB, cgroup peak %d MiB of %s%n", model, precision,
                    optimizer, tuned, report.tunedBatch.micro, report.tunedBatch.accumulation, report.peakMemoryBytes >> 20,
                    cg.peakBytes() >> 20, limit);
            assertThat(report.tunedBatch.source).isEqualTo("tuned");
            assertThat(report.tunedBatch.key).contains("." + precision + "." + optimizer + "-");
            assertThat(report.tunedBatch.micro).as("a micro-batch above the first probe").isGreaterThan(BatchSizeTuner.FIRST_PROBE);
            assertThat(report.tunedBatch.accumulation).as("the budget binds").isGreaterThan(1);
            // The tuner measures the resident set, which also counts clean file pages (libtorch's code) that the kernel
            // drops before it kills anyone; the run may exceed its probes by what three probe steps cannot show, the
            // Java heap's growth over a longer run (measured here: at most 0.1 MiB, ResNet-18 with SGD at 360 MiB).
            assertThat(report.peakMemoryBytes).as("peak RSS while training").isLessThanOrEqualTo((long) (limitBytes * 1.02));
        }
    }
}
