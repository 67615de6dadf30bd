package dev.goodput.trainer.model.torchscript;

import ai.djl.ndarray.NDArray;
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
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.function.Consumer;

/**
 * A user's TorchScript model trained on Fashion-MNIST in file order by the trainer's step, as the run would (AdamW
 * with its defaults, seed 7), for the tests of what follows training: checkpoints, export, freezing.
 */
final class UserModelRun {
    static final int BATCH = 32;
    static final long SEED = 7;
    private static ExampleSet train;
    private static ExampleSet test;
    private static Normalization norm;

    final TorchScriptModel model;
    final AdamW optimizer;
    final ParameterStore parameterStore;
    private final TrainingStep step;
    private final NDManager manager;

    /**
     * @param file           the TorchScript model
     * @param beforeTraining runs on the model before the gradient accumulator is built (to freeze parameters)
     */
    UserModelRun(NDManager manager, Path file, Consumer<TorchScriptModel> beforeTraining) {
        data();
        this.manager = manager;
        model = TorchScriptLoader.load(file, manager, new Shape(1, 1, 28, 28), 10);
        beforeTraining.accept(model);
        parameterStore = new ParameterStore(manager, false);
        optimizer = new AdamW(manager, 0.9, 0.999, 1e-8, 0.01);
        step = new TrainingStep(manager, new GradientAccumulator(model.block(), parameterStore), optimizer, null, null, 1,
                new LrSchedule("constant", 1e-3, 0, 100, 1), SEED);
    }

    UserModelRun(NDManager manager, Consumer<TorchScriptModel> beforeTraining) {
        this(manager, UserModels.FASHION_CNN, beforeTraining);
    }

    UserModelRun(NDManager manager) {
        this(manager, m -> {});
    }

    private static synchronized void data() {
        if (train != null) return;
        try {
            train = IdxReader.read(TestJobs.FASHION_MNIST, "train").slice(4096);
            test = IdxReader.read(TestJobs.FASHION_MNIST, "t10k").slice(64);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        norm = Normalization.of(train);
    }

    /** Training step {@code s} on examples [s * BATCH, (s + 1) * BATCH); returns its loss. */
    double step(int s) {
        HostBatch batch = new BatchAssembler(train, norm, null, SEED).assemble(null, s * BATCH, BATCH, 0, false);
        DataPosition next = new DataPosition(0, (s + 1) * BATCH);
        return step.run(s, () -> new BatchPipeline.Loaded(batch, 0, true, next), train).loss();
    }

    /** Eval-mode logits of the first {@code n} test examples, as the trainer's Evaluator computes them. */
    float[] evalLogits(int n) {
        return logits(model, n);
    }

    /** As {@link #evalLogits}, of another block loaded from the same kind of file. */
    float[] logits(TorchScriptModel m, int n) {
        HostBatch batch = new BatchAssembler(test, norm, null, SEED).assemble(null, 0, n, 0, false);
        try (NDScope scope = new NDScope()) {
            NDArray x = manager.create(batch.x(), new Shape(n, 1, 28, 28));
            return m.block().forward(parameterStore, new NDList(x), false).singletonOrThrow().toFloatArray();
        }
    }
}
