package dev.goodput.trainer.data;

/**
 * Which share of every global batch this process trains when several processes train one model: rank r of n takes the
 * r-th of n equal consecutive slices of the batch's examples in the epoch's permutation. The position a checkpoint
 * records is the global one, so a job resumed with another number of processes continues at the right example.
 */
public record DataShard(int rank, int ranks) {
    public static final DataShard WHOLE = new DataShard(0, 1);

    public DataShard {
        if (ranks < 1 || rank < 0 || rank >= ranks) throw new IllegalArgumentException("rank " + rank + " of " + ranks);
    }

    /** Where this rank's slice of a global batch starts, for a rank batch of {@code share} examples. */
    public int offset(int share) {
        return rank * share;
    }
}
