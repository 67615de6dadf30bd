package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.recompute.RecomputedGradients;
import dev.goodput.trainer.runtime.NativeHeap;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Recomputing layers for the backward pass gives the plain step's gradients, bit for bit, in less memory. */
class RecomputedGradientsTest {

    @Test
    void fullFineTuningGradientsAreBitIdenticalToThePlainStepWithDropoutOn() {
        try (NDManager m = newManager()) {
            BertClassifier model = BertClassifier.pretrained(MiniLm.folder(), 2, null, m, 24);
            assertThat(model.config().hiddenDropout()).isPositive();
            assertThat(model.config().attentionDropout()).isPositive();
            NDArray x = tokenIds(m, 6, 24, 1);
            NDArray y = m.create(new int[] {0, 1, 1, 0, 1, 0});
            ParameterStore ps = new ParameterStore(m, false);
            GradientAccumulator plain = new GradientAccumulator(model, ps);
            RecomputedGradients recomputed = new RecomputedGradients(model, ps);

            Step expected = step(plain, x, y, 42);
            Step actual = step(recomputed, x, y, 42);
            assertThat(expected.gradients).hasSize(103); // every tensor of MiniLM but the pooler, and the head
            assertThat(actual.loss).isEqualTo(expected.loss);
            assertBitIdentical(actual, expected, names(plain));
            // Dropout is on and follows the seed: another seed gives other gradients.
            Step otherSeed = step(plain, x, y, 43);
            assertThat(otherSeed.gradients.get(7)).isNotEqualTo(expected.gradients.get(7));
        }
    }

    @Test
    void loraGradientsAreBitIdenticalToThePlainStep() {
        try (NDManager m = newManager()) {
            BertClassifier model = BertClassifier.pretrained(MiniLm.folder(), 2,
                    new LoraSettings(8, 16, 0.1, List.of("query", "value", "intermediate.dense")), m, 24);
            // Adapters that are not zero, so their gradients flow into A as well as B.
            for (var p : model.getParameters()) {
                if (p.getKey().endsWith("lora_B")) {
                    NDArray b = p.getValue().getArray();
                    b.set(m.randomNormal(0, 0.02f, b.getShape(), b.getDataType()).toByteBuffer());
                }
            }
            NDArray x = tokenIds(m, 6, 24, 2);
            NDArray y = m.create(new int[] {1, 1, 0, 0, 1, 0});
            ParameterStore ps = new ParameterStore(m, false);
            GradientAccumulator plain = new GradientAccumulator(model, ps);
            Step expected = step(plain, x, y, 7);
            Step actual = step(new RecomputedGradients(model, ps), x, y, 7);
            assertThat(expected.gradients).hasSize(6 * 3 * 2 + 2);
            assertBitIdentical(actual, expected, names(plain));
        }
    }

    /**
     * The resident set's high-water mark over one step, above the resident set before it, plain and recomputed, in
     * this process. Before each, freed native memory goes back to the kernel (glibc's default thresholds and a trim,
     * as the batch tuner measures), so neither step runs in pages the other left behind; a small step first makes the
     * parameters' gradient buffers, which both then reuse. Batch 32 x 128 tokens: the activations of six layers
     * (each attention's scores alone are 32 x 12 x 128 x 128 floats) dwarf one layer's plus the kept layer inputs.
     */
    @Test
    void recomputationLowersThePeakMemoryOfAStep() {
        assertThat(NativeHeap.returnFreedMemory()).as("glibc's allocator, whose freed memory can be returned").isTrue();
        try (NDManager m = newManager()) {
            BertClassifier model = BertClassifier.pretrained(MiniLm.folder(), 2, null, m, 128);
            ParameterStore ps = new ParameterStore(m, false);
            GradientAccumulator plain = new GradientAccumulator(model, ps);
            RecomputedGradients recomputed = new RecomputedGradients(model, ps);
            step(plain, tokenIds(m, 2, 128, 4), m.create(new int[] {0, 1}), 1);

            NDArray x = tokenIds(m, 32, 128, 3);
            NDArray y = m.randomInteger(0, 2, new Shape(32), DataType.INT32);
            long[] plainStep = peakAbove(plain, x, y);
            long[] recomputedStep = peakAbove(recomputed, x, y);
            System.out.printf("MiniLM full fine-tuning, batch 32 x 128: step peak above resident plain %d MB (%d ms), "
                            + "recomputed %d MB (%d ms)%n", plainStep[0] >> 20, plainStep[1] / 1_000_000,
                    recomputedStep[0] >> 20, recomputedStep[1] / 1_000_000);
            assertThat(recomputedStep[0]).isLessThan(plainStep[0] / 2);
        }
    }

    /** The step's peak resident bytes above those before it, and its time in nanoseconds. */
    private static long[] peakAbove(GradientSource source, NDArray x, NDArray y) {
        NativeHeap.returnFreedMemory();
        long before = ProcessMemory.residentBytes();
        ProcessMemory.resetPeak();
        assertThat(ProcessMemory.peakResidentBytes())
                .as("the peak resets (/proc/self/clear_refs), so a peak is this step's").isLessThan(before + (16 << 20));
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
            source.forwardBackward(x, y, 1f);
        }
        long nanos = System.nanoTime() - t0;
        long peak = ProcessMemory.peakResidentBytes() - before;
        source.zeroGradients();
        return new long[] {peak, nanos};
    }

    private record Step(float loss, List<byte[]> gradients) {}

    private static Step step(GradientSource source, NDArray x, NDArray y, long seed) {
        // As the training step seeds libtorch's generator from (run seed, step).
        JniUtils.setSeed(seed);
        List<byte[]> gradients = new ArrayList<>();
        float loss;
        try (NDScope scope = new NDScope()) {
            loss = source.forwardBackward(x, y, 1f);
            for (TrainableParameter p : source.gradients()) gradients.add(bytes(p.gradient().toByteBuffer()));
        }
        source.zeroGradients();
        return new Step(loss, gradients);
    }

    private static void assertBitIdentical(Step actual, Step expected, List<String> names) {
        assertThat(actual.gradients).hasSameSizeAs(expected.gradients);
        for (int i = 0; i < expected.gradients.size(); i++) {
            assertThat(actual.gradients.get(i)).as(names.get(i)).isEqualTo(expected.gradients.get(i));
        }
        // Not vacuously: the head's gradient is not zero.
        assertThat(nonZero(expected.gradients.get(expected.gradients.size() - 2))).isTrue();
    }

    private static List<String> names(GradientSource source) {
        return source.gradients().stream().map(TrainableParameter::name).toList();
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return a;
    }

    private static boolean nonZero(byte[] a) {
        for (byte v : a) if (v != 0) return true;
        return false;
    }

    /** A batch of random token ids, each sequence [CLS] ... [SEP] of a random length and padded with 0. */
    private static NDArray tokenIds(NDManager m, int n, int length, long seed) {
        Random random = new Random(seed);
        float[] ids = new float[n * length];
        for (int i = 0; i < n; i++) {
            int real = 3 + random.nextInt(length - 2);
            ids[i * length] = 101;
            for (int t = 1; t < real - 1; t++) ids[i * length + t] = 1000 + random.nextInt(29000);
            ids[i * length + real - 1] = 102;
        }
        return m.create(ids, new Shape(n, 1, 1, length));
    }

    private static NDManager newManager() {
        return NDManager.newBaseManager(Engine.getEngine("PyTorch").defaultDevice(), "PyTorch");
    }
}
