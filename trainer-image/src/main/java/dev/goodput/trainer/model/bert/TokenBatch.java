package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;

/**
 * A batch of padded token sequences as the encoder uses them, derived once per forward from the trainer's input.
 *
 * @param ids token ids, int64 (N, L)
 * @param tokenMask 1 for a real token, 0 for padding, float32 (N, L): what mean pooling averages over
 * @param attentionBias 0 for a real token, the most negative float for padding, float32 (N, 1, 1, L): added to the
 *     attention scores so that no token attends to padding (its softmax weight is exactly 0)
 */
public record TokenBatch(NDArray ids, NDArray tokenMask, NDArray attentionBias) {

    public long batchSize() {
        return ids.getShape().get(0);
    }

    public long length() {
        return ids.getShape().get(1);
    }
}
