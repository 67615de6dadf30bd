package dev.goodput.trainer.data;

/** Where a training step takes its micro-batches from: the loader's pipeline, or a benchmark's batches built ahead. */
@FunctionalInterface
public interface MicroBatches {
    BatchPipeline.Loaded next();
}
