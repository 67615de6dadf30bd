package dev.goodput.trainer.config;

/**
 * Micro-batch and accumulation steps, and how they were chosen (fixed, tuned, checkpoint, cache). The global batch
 * is their product; when the spec's global batch is not a multiple of the micro-batch it is rounded up, and said so.
 */
public record BatchChoice(int micro, int accumulation, String source) {

    public int global() {
        return micro * accumulation;
    }

    /** A fixed micro-batch from the spec, or the whole global batch in one pass when none is given. */
    public static BatchChoice fixed(int globalBatch, String batchSize) {
        if (batchSize == null || batchSize.equals("auto")) {
            return new BatchChoice(globalBatch, 1, "fixed");
        }
        int micro = Integer.parseInt(batchSize);
        return new BatchChoice(micro, (globalBatch + micro - 1) / micro, "fixed");
    }

    /**
     * The fewest accumulation steps a micro-batch of at most {@code micro} allows, then the smallest micro-batch that
     * still covers the global batch with them: 128 with at most 100 per pass gives 2 x 64, not 2 x 100.
     */
    public static BatchChoice forMicro(int globalBatch, int micro, String source) {
        int m = Math.max(1, Math.min(micro, globalBatch));
        int accumulation = (globalBatch + m - 1) / m;
        return new BatchChoice((globalBatch + accumulation - 1) / accumulation, accumulation, source);
    }
}
