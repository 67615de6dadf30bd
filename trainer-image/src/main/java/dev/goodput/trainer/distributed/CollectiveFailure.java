package dev.goodput.trainer.distributed;

/**
 * A collective that could not complete: a peer closed its connection (its process ended) or did not answer within the
 * process group's timeout. The run cannot go on with fewer ranks, so it ends non-zero and the job's next attempt starts
 * every rank again from the last checkpoint.
 */
public final class CollectiveFailure extends RuntimeException {
    public CollectiveFailure(String message) {
        super(message);
    }
}
