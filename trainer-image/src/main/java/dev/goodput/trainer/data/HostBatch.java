package dev.goodput.trainer.data;

/** A batch prepared in host memory by a loader worker, ready to become device arrays on the training thread. */
public record HostBatch(float[] x, long[] y, int size) {}
