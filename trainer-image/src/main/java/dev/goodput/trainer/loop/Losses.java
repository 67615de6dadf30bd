package dev.goodput.trainer.loop;

import ai.djl.ndarray.NDArray;

/** Softmax cross-entropy on logits and class indices, averaged over the batch. */
public final class Losses {
    private Losses() {}

    public static NDArray crossEntropy(NDArray logits, NDArray labels) {
        NDArray logProb = logits.logSoftmax(1);
        return logProb.gather(labels.reshape(-1, 1), 1).mean().neg();
    }
}
