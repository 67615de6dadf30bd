package dev.goodput.trainer.loop;

/**
 * The other processes training the same model, as the loop sees them: every decision that could differ between them
 * (a SIGTERM that reached one, a clock that ran out on one) is agreed before it is acted on, so every process stops at
 * the same step, and only the leader writes checkpoints. A single process has no peers ({@link #NONE}) and agreeing
 * costs nothing.
 */
public interface Peers {
    /** Whether this process writes the checkpoints, the report and the exported model. */
    boolean leader();

    /** Each flag, true when it is true on any process. */
    boolean[] any(boolean... flags);

    /** The leader's values on every process (each waits for the leader), e.g. whether its save became durable. */
    double[] fromLeader(double... values);

    Peers NONE = new Peers() {
        @Override
        public boolean leader() {
            return true;
        }

        @Override
        public boolean[] any(boolean... flags) {
            return flags;
        }

        @Override
        public double[] fromLeader(double... values) {
            return values;
        }
    };
}
