package dev.goodput.trainer.precision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.loop.StepRecorder;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** fp16 compute with fp32 master weights and dynamic loss scaling, on CPU (where it is correct, not fast). */
class MixedPrecisionTest {
    static final String JOB = TestJobs.yaml("cnn", 4096, "epochs: 4").replace("testLimit: 1000", "testLimit: 2000");
    static final String FP16 = "seed: 7\n    precision: fp16";

    /** The loss scaler's state as the run's final checkpoint holds it: what a resumed run would continue from. */
    static LossScaler.State checkpointedScaler(Path checkpoints) throws IOException {
        TrainingState s = new CheckpointStore(checkpoints.resolve("job"), 3).loadLatest().orElseThrow().snapshot().state();
        return s.components().get(LossScaler.KEY.name()) == null ? null
                : new ObjectMapper().treeToValue(s.components().get(LossScaler.KEY.name()), LossScaler.State.class);
    }

    @Test
    void fp16MixedConvergesToWithinHalfAPercentOfFp32(@TempDir Path dir) throws IOException {
        double a32 = TestJobs.run(JOB, dir.resolve("fp32"), null).outcome().finalEvaluation().accuracy();
        TrainerRun fp16 = TestJobs.run(JOB.replace("seed: 7", FP16), dir.resolve("fp16"), null);
        double a16 = fp16.outcome().finalEvaluation().accuracy();
        assertThat(a32).isGreaterThan(0.75);
        assertThat(Math.abs(a16 - a32)).as("fp16 %.4f vs fp32 %.4f", a16, a32).isLessThanOrEqualTo(0.005);
        assertThat(checkpointedScaler(dir.resolve("fp16"))).as("fp16 checkpoints its loss scaler").isNotNull();
        assertThat(checkpointedScaler(dir.resolve("fp32"))).as("fp32 has none").isNull();
    }

    @Test
    void survivesAnInjectedOverflow(@TempDir Path dir) throws IOException {
        StepRecorder rec = new StepRecorder();
        // A first loss scale of 2^40 overflows fp16 gradients for certain: the scaler must skip and back off.
        TrainerRun run = TestJobs.run(JOB.replace("seed: 7", FP16 + "\n    initialLossScale: 1099511627776"), dir, rec);
        LossScaler.State scaler = checkpointedScaler(dir);
        assertThat(scaler.skippedSteps()).isBetween(1L, 40L);
        assertThat(scaler.scale()).isLessThanOrEqualTo(65536.0);
        assertThat(rec.losses).allMatch(Double::isFinite);
        assertThat(run.outcome().finalEvaluation().accuracy()).isGreaterThan(0.75);
    }
}
