package dev.goodput.trainer.distributed;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TestJobs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Data parallelism across real trainer processes on loopback (c10d, Gloo): the same global batch over 1, 2 and 4
 * processes trains the same model.
 */
class DataParallelTrainingTest {
    static final int STEPS = 150;

    static String job(int steps) {
        // An MLP (no BatchNorm, no dropout), so the processes' shares make exactly the whole batch's mean gradient;
        // micro-batches of 16 make one process accumulate 4, two accumulate 2 and four none.
        return TestJobs.yaml("mlp", 6400, "maxSteps: " + steps + "\nbatchSize: 16");
    }

    @Test
    void twoAndFourProcessesEndWithTheParametersOfOne(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), job(STEPS));
        Map<String, float[]> one = train(1, manifest, dir.resolve("one"));
        Map<String, float[]> two = train(2, manifest, dir.resolve("two"));
        Map<String, float[]> four = train(4, manifest, dir.resolve("four"));
        double d2 = MultiProcessTraining.largestRelativeDifference(two, one);
        double d4 = MultiProcessTraining.largestRelativeDifference(four, one);
        System.out.printf("after %d steps, largest ||p - p1|| / ||p1|| over the parameters: 2 processes %.2e, 4 processes %.2e;"
                + " largest |p - p1|: %.2e, %.2e%n", STEPS, d2, d4, MultiProcessTraining.largestAbsoluteDifference(two, one),
                MultiProcessTraining.largestAbsoluteDifference(four, one));
        assertThat(d2).isLessThan(1e-5);
        assertThat(d4).isLessThan(1e-5);
    }

    private static Map<String, float[]> train(int world, Path manifest, Path checkpoints) throws Exception {
        try (MultiProcessTraining run = MultiProcessTraining.start(world, Map.of(), manifest, checkpoints, checkpoints.getParent())) {
            List<Integer> codes = run.waitFor(300);
            assertThat(codes).as(run.output()).containsOnly(ExitCodes.FINISHED);
            if (world > 1) assertThat(run.rank(1).printed("data parallel: rank 1 of " + world)).as(run.output()).isTrue();
        }
        return MultiProcessTraining.latestParameters(checkpoints.resolve("test-job"));
    }
}
