package dev.goodput.trainer.loop;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;

/** Accuracy and mean cross-entropy on the test split, in inference mode (BN running stats, no dropout, no grad). */
public final class Evaluator {
    private final BatchAssembler test;
    private final int batch;
    private final DataType inputType;

    public record Result(double accuracy, double loss, double seconds) {}

    public Evaluator(BatchAssembler test, int batch, DataType inputType) {
        this.test = test;
        this.batch = batch;
        this.inputType = inputType;
    }

    public Result evaluate(NDManager manager, Block block, ParameterStore ps) {
        return evaluate(manager, block, ps, test.examples().size());
    }

    /** One batch of the test split, as the batch tuner's probe runs it: its memory is part of the run's peak. */
    public Result evaluateOneBatch(NDManager manager, Block block, ParameterStore ps) {
        return evaluate(manager, block, ps, Math.min(batch, test.examples().size()));
    }

    private Result evaluate(NDManager manager, Block block, ParameterStore ps, int examples) {
        long t0 = System.nanoTime();
        ExampleSet set = test.examples();
        long correct = 0;
        double lossSum = 0;
        StagingBuffers staging = new StagingBuffers();
        for (int from = 0; from < examples; from += batch) {
            int n = Math.min(batch, examples - from);
            HostBatch hb = test.assemble(null, from, n, 0, false);
            try (NDScope scope = new NDScope()) {
                NDArray x = staging.features(manager, hb, inputShape(set, hb));
                if (inputType != DataType.FLOAT32 && !set.isText()) x = x.toType(inputType, false);
                NDArray y = staging.labels(manager, hb);
                NDArray logits = block.forward(ps, new NDList(x), false).singletonOrThrow();
                correct += logits.argMax(1).eq(y).sum().getLong();
                lossSum += Losses.crossEntropy(logits, y).getFloat() * n;
            }
        }
        return new Result((double) correct / examples, lossSum / examples, (System.nanoTime() - t0) / 1e9);
    }

    /** The batch's shape: the set's, but as wide as the batch is (a text batch is cut to its longest example). */
    static Shape inputShape(ExampleSet set, HostBatch batch) {
        int n = batch.size();
        return new Shape(n, set.channels(), set.height(), batch.x().length / ((long) n * set.channels() * set.height()));
    }
}
