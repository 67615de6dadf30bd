package dev.goodput.trainer.recompute;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;

/**
 * A model whose training forward is a sequence of segments, each a function of the previous one's output, which
 * {@link RecomputedGradients} can run again one at a time: a BERT classifier (embeddings, each encoder layer, the
 * head) or a user's TorchScript model given as stages. The model's own training forward must run the same segments,
 * seeded the same way ({@link DropoutSeeds}, one base seed per forward drawn from libtorch's generator, entered per
 * segment), so that recomputed gradients are the plain step's bit for bit.
 */
public interface Segmented extends Block {

    /**
     * Begins one training forward of the micro-batch {@code x}: draws its dropout seeds and prepares what every
     * segment reads besides its input (BERT's attention mask). Close it when the micro-batch's backward is done.
     */
    Pass pass(ParameterStore parameterStore, NDArray x);

    /** One micro-batch's forward, segment by segment. */
    interface Pass extends AutoCloseable {
        /** How many segments; the last returns the logits (N, classes). */
        int segments();

        /** Segment 0's input. */
        NDArray input();

        /**
         * Runs segment {@code segment} in training mode on {@code input} (segment 0 on {@link #input()}, each other
         * on the previous one's output), its dropout seeded for (this micro-batch, segment), under whatever autograd
         * mode the caller set.
         */
        NDArray run(int segment, NDArray input);

        /**
         * Runs segment {@code segment} again, after {@link #run}, as it ran then: the same dropout masks, and the same
         * state for what the segment changes as it runs (BatchNorm's running statistics), which must end as one run
         * left it, not moved twice.
         */
        default NDArray replay(int segment, NDArray input) {
            return run(segment, input);
        }

        /** Whether a parameter of segment {@code segment} trains (needs a gradient). */
        boolean trains(int segment);

        @Override
        default void close() {}
    }
}
