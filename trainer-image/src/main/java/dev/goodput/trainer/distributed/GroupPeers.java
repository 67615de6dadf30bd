package dev.goodput.trainer.distributed;

import dev.goodput.trainer.loop.Peers;

/** {@link Peers} over a c10d process group: one small all-reduce per agreement. */
public final class GroupPeers implements Peers {
    private final ProcessGroup group;

    public GroupPeers(ProcessGroup group) {
        this.group = group;
    }

    @Override
    public boolean leader() {
        return group.world().leader();
    }

    @Override
    public boolean[] any(boolean... flags) {
        double[] v = new double[flags.length];
        for (int i = 0; i < v.length; i++) v[i] = flags[i] ? 1 : 0;
        double[] r = group.max(v);
        boolean[] out = new boolean[r.length];
        for (int i = 0; i < r.length; i++) out[i] = r[i] > 0;
        return out;
    }

    @Override
    public double[] fromLeader(double... values) {
        // A sum to which only the leader contributes: its values, on every process, once every process got there.
        return group.sum(leader() ? values : new double[values.length]);
    }
}
