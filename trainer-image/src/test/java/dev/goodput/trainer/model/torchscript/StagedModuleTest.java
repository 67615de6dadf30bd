package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.ModelArrays;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.checkpoint.Snapshot;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.BatchPipeline;
import dev.goodput.trainer.data.DataPosition;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.IdxReader;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.export.ModelCard;
import dev.goodput.trainer.export.TorchScriptModelWriter;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.loop.TrainingStep;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.optim.AdamW;
import dev.goodput.trainer.optim.LrSchedule;
import dev.goodput.trainer.optim.TrainableParameter;
import dev.goodput.trainer.recompute.RecomputedGradients;
import dev.goodput.trainer.runtime.NativeHeap;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TorchScript model given as a folder of stages: loaded as one block with stage-prefixed names, refused with a
 * message when its files do not form a sequence, trained with gradient checkpointing to the plain step's gradients
 * bit for bit in less memory, checkpointed and resumed exactly, and exported as stages that load again.
 */
class StagedModuleTest extends PyTorchManagerTest {
    /** examples/torchscript/export_model.py --stages: FashionCnn, with the weights of fashion_cnn.pt, in 4 stages. */
    static final Path FASHION_STAGES = Path.of("..", "examples", "torchscript", "fashion_cnn_stages");
    /** src/test/python/torchscript_fixtures.py: six stages, five of them conv blocks of equal size. */
    static final Path DEEP_STAGES = Path.of("src", "test", "resources", "dev", "goodput", "trainer", "model",
            "torchscript", "deep_stages");
    static final Shape ONE = new Shape(1, 1, 28, 28);
    static ExampleSet train;
    static ExampleSet test;
    static Normalization norm;
    @TempDir
    Path dir;

    @BeforeAll
    static void data() throws IOException {
        train = IdxReader.read(TestJobs.FASHION_MNIST, "train").slice(4096);
        test = IdxReader.read(TestJobs.FASHION_MNIST, "t10k").slice(64);
        norm = Normalization.of(train);
    }

    @Test
    void loadsTheStagesAsOneModelWithStagePrefixedNamesAndComputesTheSingleFileModel() {
        StagedModule staged = TorchScriptLoader.loadStages(FASHION_STAGES, manager, ONE, 10);
        assertThat(staged.stageCount()).isEqualTo(4);
        assertThat(staged.getParameters().keys()).containsExactly("stage-0.conv.weight", "stage-0.bn.weight",
                "stage-0.bn.bias", "stage-1.conv.weight", "stage-1.bn.weight", "stage-1.bn.bias", "stage-2.fc.weight",
                "stage-2.fc.bias", "stage-2.norm.weight", "stage-2.norm.bias", "stage-3.logit_scale",
                "stage-3.head.weight", "stage-3.head.bias");
        assertThat(staged.buffers().names()).containsExactly("stage-0.bn.running_mean", "stage-0.bn.running_var",
                "stage-0.bn.num_batches_tracked", "stage-1.bn.running_mean", "stage-1.bn.running_var",
                "stage-1.bn.num_batches_tracked");
        // The same network as fashion_cnn.pt, with the same initial weights: the same eval logits.
        TorchScriptModel single = TorchScriptLoader.load(UserModels.FASHION_CNN, manager, ONE, 10);
        float[] expected = evalLogits(single.block(), 16);
        float[] actual = evalLogits(staged, 16);
        for (int i = 0; i < expected.length; i++) {
            assertThat(actual[i]).as("logit %d", i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(1e-5f));
        }
    }

    @Test
    void aFolderWithoutStagesOrWithAGapIsRefusedSayingWhatToChange() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThatThrownBy(() -> TorchScriptLoader.loadStages(empty, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("no stage-0.pt")
                .hasMessageContaining("--stages");
        Path gap = Files.createDirectories(dir.resolve("gap"));
        Files.copy(FASHION_STAGES.resolve("stage-0.pt"), gap.resolve("stage-0.pt"));
        Files.copy(FASHION_STAGES.resolve("stage-1.pt"), gap.resolve("stage-1.pt"));
        Files.copy(FASHION_STAGES.resolve("stage-3.pt"), gap.resolve("stage-3.pt"));
        assertThatThrownBy(() -> TorchScriptLoader.loadStages(gap, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("no stage-2.pt")
                .hasMessageContaining("without gaps");
        Path padded = Files.createDirectories(dir.resolve("padded"));
        Files.copy(FASHION_STAGES.resolve("stage-0.pt"), padded.resolve("stage-00.pt"));
        assertThatThrownBy(() -> TorchScriptLoader.loadStages(padded, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("stage-00.pt");
    }

    @Test
    void stagesThatDoNotFitTogetherOrEndInOtherLogitsAreRefused() throws IOException {
        Path skipped = Files.createDirectories(dir.resolve("skipped"));
        Files.copy(FASHION_STAGES.resolve("stage-0.pt"), skipped.resolve("stage-0.pt"));
        Files.copy(FASHION_STAGES.resolve("stage-2.pt"), skipped.resolve("stage-1.pt"));
        Files.copy(FASHION_STAGES.resolve("stage-3.pt"), skipped.resolve("stage-2.pt"));
        assertThatThrownBy(() -> TorchScriptLoader.loadStages(skipped, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("stage-1.pt fails on the output of"
                        + " stage-0.pt, of shape (1, 8, 14, 14)");
        Path noHead = Files.createDirectories(dir.resolve("no-head"));
        for (int i = 0; i < 3; i++) Files.copy(FASHION_STAGES.resolve("stage-" + i + ".pt"), noHead.resolve("stage-" + i + ".pt"));
        assertThatThrownBy(() -> TorchScriptLoader.loadStages(noHead, manager, ONE, 10))
                .isInstanceOf(UnusableModelException.class).hasMessageContaining("returns (1, 64)")
                .hasMessageContaining("must return (1, 10)");
    }

    @Test
    void recomputedGradientsAreBitIdenticalToThePlainStepWithDropoutAndBatchNormInTrainMode() {
        for (Path folder : List.of(FASHION_STAGES, DEEP_STAGES)) {
            StagedModule plainModel = TorchScriptLoader.loadStages(folder, manager, ONE, 10);
            StagedModule recomputedModel = TorchScriptLoader.loadStages(folder, manager, ONE, 10);
            ParameterStore ps = new ParameterStore(manager, false);
            GradientAccumulator plain = new GradientAccumulator(plainModel, ps);
            RecomputedGradients recomputed = new RecomputedGradients(recomputedModel, ps);
            NDArray x = batch(0, 24);
            NDArray y = labels(0, 24);

            Step expected = step(plain, x, y, 42);
            Step actual = step(recomputed, x, y, 42);
            List<String> names = plain.gradients().stream().map(TrainableParameter::name).toList();
            assertThat(names).isEqualTo(recomputed.gradients().stream().map(TrainableParameter::name).toList())
                    .hasSize(plainModel.getParameters().size());
            assertThat(actual.loss).as(folder.toString()).isEqualTo(expected.loss);
            for (int i = 0; i < names.size(); i++) {
                assertThat(actual.gradients.get(i)).as("%s %s", folder, names.get(i)).isEqualTo(expected.gradients.get(i));
                assertThat(nonZero(expected.gradients.get(i))).as("%s %s", folder, names.get(i)).isTrue();
            }
            // BatchNorm's running statistics moved once, as in the plain step, not once more by the recomputation.
            assertThat(hex(recomputedModel.buffers())).isEqualTo(hex(plainModel.buffers()));
            assertThat(num(plainModel, "stage-0.bn.num_batches_tracked")).isEqualTo(1);
            // Dropout is on and follows the seed: another seed gives other gradients.
            Step otherSeed = step(plain, x, y, 43);
            assertThat(otherSeed.gradients.get(0)).isNotEqualTo(expected.gradients.get(0));
            System.out.printf("StagedModuleTest: %s: %d gradients of %d stages bit-identical, loss %s%n",
                    folder.getFileName(), names.size(), plainModel.stageCount(), actual.loss);
        }
    }

    @Test
    void frozenLowerStagesAreNeitherRecomputedNorGivenGradients() {
        StagedModule plainModel = TorchScriptLoader.loadStages(DEEP_STAGES, manager, ONE, 10);
        StagedModule recomputedModel = TorchScriptLoader.loadStages(DEEP_STAGES, manager, ONE, 10);
        dev.goodput.trainer.model.TrainableParameters.freezeAllBut(plainModel, "^stage-[345]\\.");
        dev.goodput.trainer.model.TrainableParameters.freezeAllBut(recomputedModel, "^stage-[345]\\.");
        ParameterStore ps = new ParameterStore(manager, false);
        GradientAccumulator plain = new GradientAccumulator(plainModel, ps);
        RecomputedGradients recomputed = new RecomputedGradients(recomputedModel, ps);
        NDArray x = batch(0, 16);
        NDArray y = labels(0, 16);
        Step expected = step(plain, x, y, 5);
        Step actual = step(recomputed, x, y, 5);
        assertThat(actual.gradients).hasSize(expected.gradients.size()).hasSize(8);
        for (int i = 0; i < expected.gradients.size(); i++) {
            assertThat(actual.gradients.get(i)).isEqualTo(expected.gradients.get(i));
        }
        assertThat(hex(recomputedModel.buffers())).isEqualTo(hex(plainModel.buffers()));
    }

    /**
     * The resident set's high-water mark over one step above the resident set before it, plain and recomputed, measured
     * as RecomputedGradientsTest measures BERT's. Six stages, five of them 16-channel conv blocks at 28x28: a batch of
     * 256 keeps five blocks' activations (conv, BatchNorm, GELU, dropout and its mask, about 200 KB an example each)
     * in the plain step; the recomputed step keeps the five stage inputs and one block's activations at a time.
     */
    @Test
    void recomputationLowersThePeakMemoryOfAStep() {
        assertThat(NativeHeap.returnFreedMemory()).as("glibc's allocator, whose freed memory can be returned").isTrue();
        StagedModule model = TorchScriptLoader.loadStages(DEEP_STAGES, manager, ONE, 10);
        ParameterStore ps = new ParameterStore(manager, false);
        GradientAccumulator plain = new GradientAccumulator(model, ps);
        RecomputedGradients recomputed = new RecomputedGradients(model, ps);
        step(plain, batch(0, 2), labels(0, 2), 1);

        NDArray x = batch(0, 256);
        NDArray y = labels(0, 256);
        long[] plainStep = peakAbove(plain, x, y);
        long[] recomputedStep = peakAbove(recomputed, x, y);
        System.out.printf("StagedModuleTest: six stages, batch 256 x 1 x 28 x 28: step peak above resident plain %d MB"
                        + " (%d ms), recomputed %d MB (%d ms)%n", plainStep[0] >> 20, plainStep[1] / 1_000_000,
                recomputedStep[0] >> 20, recomputedStep[1] / 1_000_000);
        assertThat(recomputedStep[0]).isLessThan(plainStep[0] * 2 / 3);
    }

    @Test
    void aCheckpointOfTheStagesResumesExactlyWithEveryStagesBuffers() throws Exception {
        StagedRun trained = new StagedRun(FASHION_STAGES);
        for (int s = 0; s < 3; s++) trained.step(s);
        ModelArrays arrays = ModelArrays.of(trained.model, trained.model.buffers(), null);
        Snapshot snapshot = ModelState.snapshot(arrays, trained.optimizer,
                new TrainingState(TrainingState.VERSION, 3, 7, null, Map.of()));
        assertThat(snapshot.parameters().keySet()).contains("stage-0.conv.weight", "stage-3.logit_scale",
                "buffer/stage-0.bn.running_mean", "buffer/stage-1.bn.num_batches_tracked");
        CheckpointStore store = new CheckpointStore(dir.resolve("job"), 2);
        store.save(snapshot);
        float[] before = evalLogits(trained.model, 16);

        StagedRun resumed = new StagedRun(FASHION_STAGES);
        assertThat(evalLogits(resumed.model, 16)).isNotEqualTo(before);
        ModelState.restore(store.loadLatest().orElseThrow().snapshot(),
                ModelArrays.of(resumed.model, resumed.model.buffers(), null), resumed.optimizer, manager);
        resumed.optimizer.restoreStepCount(trained.optimizer.stepCount());
        assertThat(evalLogits(resumed.model, 16)).isEqualTo(before);
        assertThat(hex(resumed.model.buffers())).isEqualTo(hex(trained.model.buffers()));
        assertThat(num(resumed.model, "stage-1.bn.num_batches_tracked")).isEqualTo(3);
        for (int s = 3; s < 5; s++) assertThat(resumed.step(s)).as("step %d", s).isEqualTo(trained.step(s));
        assertThat(evalLogits(resumed.model, 16)).isEqualTo(evalLogits(trained.model, 16));
    }

    @Test
    void theTrainedStagesAreWrittenAsAFolderOfStagesThatLoadsAgain() throws Exception {
        StagedRun trained = new StagedRun(FASHION_STAGES);
        for (int s = 0; s < 2; s++) trained.step(s);
        Path out = Files.createDirectories(dir.resolve("model"));
        TorchScriptModelWriter writer = TorchScriptModelWriter.stages(trained.model, new ModelCard(
                ModelCard.TORCHSCRIPT_STAGES, TorchScriptModelWriter.STAGE_SUMS, null, 10, 2, new int[] {1, 28, 28}, null,
                null, null));
        writer.writeTo(out);
        assertThat(out.resolve("stages.sha256")).content().contains("  stage-0.pt\n").contains("  stage-3.pt\n");
        StagedModule again = TorchScriptLoader.loadStages(out, manager, ONE, 10);
        assertThat(evalLogits(again, 16)).isEqualTo(evalLogits(trained.model, 16));
        assertThat(hex(again.buffers())).isEqualTo(hex(trained.model.buffers()));
    }

    /** The stages trained by the trainer's step with gradient checkpointing (AdamW, seed 7, batch 32). */
    private final class StagedRun {
        final StagedModule model;
        final AdamW optimizer;
        final TrainingStep step;

        StagedRun(Path folder) {
            model = TorchScriptLoader.loadStages(folder, manager, ONE, 10);
            ParameterStore ps = new ParameterStore(manager, false);
            optimizer = new AdamW(manager, 0.9, 0.999, 1e-8, 0.01);
            step = new TrainingStep(manager, new RecomputedGradients(model, ps), optimizer, null, null, 1,
                    new LrSchedule("constant", 1e-3, 0, 100, 1), 7);
        }

        double step(int s) {
            HostBatch batch = new BatchAssembler(train, norm, null, 7).assemble(null, s * 32, 32, 0, false);
            DataPosition next = new DataPosition(0, (s + 1) * 32);
            return step.run(s, () -> new BatchPipeline.Loaded(batch, 0, true, next), train).loss();
        }
    }

    private record Step(float loss, List<byte[]> gradients) {}

    private static Step step(GradientSource source, NDArray x, NDArray y, long seed) {
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

    private static long[] peakAbove(GradientSource source, NDArray x, NDArray y) {
        NativeHeap.returnFreedMemory();
        long before = ProcessMemory.residentBytes();
        ProcessMemory.resetPeak();
        assertThat(ProcessMemory.peakResidentBytes()).isLessThan(before + (16 << 20));
        long t0 = System.nanoTime();
        try (NDScope scope = new NDScope()) {
            source.forwardBackward(x, y, 1f);
        }
        long nanos = System.nanoTime() - t0;
        long peak = ProcessMemory.peakResidentBytes() - before;
        source.zeroGradients();
        return new long[] {peak, nanos};
    }

    private NDArray batch(int from, int n) {
        HostBatch b = new BatchAssembler(train, norm, null, 7).assemble(null, from, n, 0, false);
        return manager.create(b.x(), new Shape(n, 1, 28, 28));
    }

    private NDArray labels(int from, int n) {
        HostBatch b = new BatchAssembler(train, norm, null, 7).assemble(null, from, n, 0, false);
        return manager.create(b.y(), new Shape(n));
    }

    private float[] evalLogits(ai.djl.nn.Block block, int n) {
        HostBatch batch = new BatchAssembler(test, norm, null, 7).assemble(null, 0, n, 0, false);
        try (NDScope scope = new NDScope()) {
            NDArray x = manager.create(batch.x(), new Shape(n, 1, 28, 28));
            return block.forward(new ParameterStore(manager, false), new NDList(x), false).singletonOrThrow()
                    .toFloatArray();
        }
    }

    private long num(StagedModule model, String buffer) {
        try (NDManager scratch = manager.newSubManager()) {
            return scratch.decode(model.buffers().read().get(buffer)).toType(DataType.INT64, false).getLong();
        }
    }

    private static Map<String, String> hex(ModuleBuffers buffers) {
        Map<String, String> out = new java.util.LinkedHashMap<>();
        buffers.read().forEach((k, v) -> out.put(k, java.util.HexFormat.of().formatHex(v)));
        return out;
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
}
