package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.DataPosition;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.IdxReader;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.TrainingStep;
import dev.goodput.trainer.optim.AdamW;
import dev.goodput.trainer.optim.LrSchedule;
import java.io.IOException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The example user network trained by the trainer's own step (TrainingStep: per-step seeding of dropout,
 * GradientAccumulator, the fused AdamW) gives PyTorch's losses, step for step, and the same eval-mode logits after:
 * BatchNorm in train mode, dropout masks, GELU, LayerNorm, the bare parameter and the buffers all behave as in
 * PyTorch.
 */
class TorchScriptTrainingTest extends PyTorchManagerTest {
    static Reference ref;
    static ExampleSet train;
    static ExampleSet test;

    @BeforeAll
    static void data() throws IOException {
        ref = Reference.load();
        train = IdxReader.read(TestJobs.FASHION_MNIST, "train");
        test = IdxReader.read(TestJobs.FASHION_MNIST, "t10k");
    }

    private int threadsBefore = -1;

    @AfterEach
    void restoreThreads() {
        if (threadsBefore > 0) JniUtils.setNumThreads(threadsBefore);
    }

    @Test
    void twentyStepsGivePyTorchsLossesAndLogits() {
        // The thread count the reference ran with: libtorch's is process-wide, and a test before this one in the same
        // JVM may have trained at another. BatchNorm's statistics reduce in another order at another count (2e-6 off
        // on an Intel Xeon at 1 thread against the reference's 2).
        threadsBefore = JniUtils.getNumThreads();
        JniUtils.setNumThreads(ref.threads());
        Normalization norm = Normalization.of(train);
        assertThat(norm.mean()[0]).isEqualTo(ref.mean());
        assertThat(norm.std()[0]).isEqualTo(ref.std());
        TorchScriptModel model = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, new Shape(1, 1, 28, 28), 10);
        ParameterStore ps = new ParameterStore(manager, false);
        TrainingStep step = new TrainingStep(manager, new GradientAccumulator(model.block(), ps),
                new AdamW(manager, ref.beta1(), ref.beta2(), ref.eps(), ref.weightDecay()), null, null, 1,
                new LrSchedule("constant", ref.lr(), 0, ref.steps(), 1), ref.seed());
        BatchAssembler assembler = new BatchAssembler(train, norm, null, ref.seed());
        double worst = 0;
        StringBuilder diffs = new StringBuilder();
        for (int s = 0; s < ref.steps(); s++) {
            int from = s * ref.batch();
            HostBatch batch = assembler.assemble(null, from, ref.batch(), 0, false);
            DataPosition next = new DataPosition(0, from + ref.batch());
            TrainingStep.Result r = step.run(s, () -> new BatchPipeline.Loaded(batch, 0, true, next), train);
            double diff = Math.abs(r.loss() - ref.losses()[s]);
            worst = Math.max(worst, diff);
            diffs.append(String.format(" %.1e", diff));
            assertThat(r.loss()).as("loss of step %d", s).isCloseTo(ref.losses()[s], offset(1e-6));
        }
        System.out.println("TorchScriptTrainingTest: |loss - PyTorch| per step:" + diffs + "; largest " + worst);

        float[] logits = evalLogits(model, norm, ref.testLogits().length);
        double worstLogit = 0;
        for (int i = 0; i < logits.length; i++) {
            double expected = ref.testLogits()[i / 10][i % 10];
            worstLogit = Math.max(worstLogit, Math.abs(logits[i] - expected));
        }
        System.out.println("TorchScriptTrainingTest: largest |eval logit - PyTorch| after training: " + worstLogit);
        assertThat(worstLogit).isLessThanOrEqualTo(1e-5);
        // The running statistics moved as PyTorch's did (num_batches_tracked counts the 20 steps).
        var buffers = model.buffers().read();
        assertThat(buffers.keySet()).containsExactlyElementsOf(ref.buffers().keySet());
        try (NDManager scratch = manager.newSubManager()) {
            assertThat(scratch.decode(buffers.get("bn1.num_batches_tracked")).getLong()).isEqualTo(ref.steps());
            for (String name : buffers.keySet()) {
                NDArray live = scratch.decode(buffers.get(name)).toType(ai.djl.ndarray.types.DataType.FLOAT64, false);
                double[] values = live.toDoubleArray();
                for (int i = 0; i < values.length; i++) {
                    assertThat(values[i]).as("%s[%d]", name, i).isCloseTo(ref.buffers().get(name).get(i), offset(1e-6));
                }
            }
        }
    }

    /** Eval-mode logits of the first {@code n} test examples, flattened, as the trainer's Evaluator computes them. */
    private float[] evalLogits(TorchScriptModel model, Normalization norm, int n) {
        HostBatch batch = new BatchAssembler(test, norm, null, ref.seed()).assemble(null, 0, n, 0, false);
        try (NDScope scope = new NDScope()) {
            NDArray x = manager.create(batch.x(), new Shape(n, 1, 28, 28));
            return model.block().forward(new ParameterStore(manager, false), new NDList(x), false).singletonOrThrow()
                    .toFloatArray();
        }
    }
}
