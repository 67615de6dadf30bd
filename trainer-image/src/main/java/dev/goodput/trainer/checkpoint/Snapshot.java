package dev.goodput.trainer.checkpoint;

import java.util.Map;

/**
 * A checkpoint held in host memory: arrays already encoded, so training may change the live arrays while this is
 * written out on another thread (the first of CheckFreq's two phases).
 */
public record Snapshot(TrainingState state, Map<String, byte[]> parameters, Map<String, byte[]> optimizer) {

    public long bytes() {
        long n = 0;
        for (byte[] b : parameters.values()) n += b.length;
        for (byte[] b : optimizer.values()) n += b.length;
        return n;
    }
}
