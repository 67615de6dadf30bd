package dev.goodput.trainer.recompute;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.goodput.trainer.data.EpochOrder;

/**
 * Makes each segment of one training forward ({@link Segmented}: BERT's embeddings, encoder layers and head; a
 * TorchScript model's stages) draw its dropout masks from a seed of its own, so that the segment can be run again
 * later with the same masks: recomputing a segment for its backward pass ({@link RecomputedGradients}) must
 * reproduce exactly the activations the first pass had.
 *
 * <p>The base seed is drawn from libtorch's generator, which the training step seeds from (run seed, step): the masks
 * stay a function of the step, as a resumed run needs, and every micro-batch of a step gets its own.
 */
public record DropoutSeeds(long base) {

    /** One draw from libtorch's global generator (on the manager's device) as the base seed. */
    public static DropoutSeeds draw(NDManager manager) {
        try (NDManager scratch = manager.newSubManager()) {
            return new DropoutSeeds(scratch.randomInteger(0, Long.MAX_VALUE, new Shape(1), DataType.INT64).getLong());
        }
    }

    /** Seeds libtorch's generator for segment {@code segment}'s dropout. */
    public void enter(int segment) {
        JniUtils.setSeed(EpochOrder.mix(base, segment));
    }

    /**
     * Leaves libtorch's generator in a state that depends on this forward's base seed alone, whatever segments ran
     * last and in what order. A plain forward ends after its last segment, a recomputation after replaying its
     * first; without this the next micro-batch of the step would draw a different base seed in each, and training
     * with gradient checkpointing would follow another trajectory from the second micro-batch on.
     */
    public void leave() {
        JniUtils.setSeed(EpochOrder.mix(base, -1));
    }
}
