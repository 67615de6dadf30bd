package dev.goodput.trainer.data;

/**
 * Where the next optimizer step starts reading: the epoch and the index into that epoch's permutation. With the seed
 * this fixes all future batches, so it is all a checkpoint needs to keep about data order.
 */
public record DataPosition(int epoch, int index) {
    public static final DataPosition START = new DataPosition(0, 0);

    /** The position after one global batch, rolling into the next epoch when another full batch does not fit. */
    public DataPosition advance(int globalBatch, int epochSize) {
        int next = index + globalBatch;
        return next + globalBatch > epochSize ? new DataPosition(epoch + 1, 0) : new DataPosition(epoch, next);
    }
}
