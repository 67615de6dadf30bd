package dev.goodput.trainer.tune;

import ai.djl.ndarray.NDManager;

/**
 * A probe: the job's own training step (see {@link Steps}) runs a few times at the probed micro-batch on a throwaway
 * sub-manager of {@code parent}, and the meter's peak during them is the measurement: on CPU the process's resident
 * set (libtorch's native allocations and the loader's buffers included, which is what a container's memory limit
 * counts), on a GPU the device's used memory. An allocator's out-of-memory error (CUDA) makes the probe a failure.
 */
public final class MemoryProbe implements BatchSizeTuner.ProbeRunner {
    /** Builds the job's components at a micro-batch on {@code manager} and runs {@code count} real steps of them. */
    @FunctionalInterface
    public interface Steps {
        void run(NDManager manager, int micro, int count);
    }

    private final NDManager parent;
    private final Steps steps;
    private final int count;
    private final MemoryMeter meter;

    public MemoryProbe(NDManager parent, Steps steps, int count, MemoryMeter meter) {
        this.parent = parent;
        this.steps = steps;
        this.count = count;
        this.meter = meter;
    }

    @Override
    public long baselineBytes() {
        return meter.current();
    }

    @Override
    public BatchSizeTuner.Probe run(int micro) {
        meter.resetPeak();
        try (NDManager m = parent.newSubManager()) {
            steps.run(m, micro, count);
            long peak = meter.peak();
            return new BatchSizeTuner.Probe(micro, true, peak, false, "peak " + BatchSizeTuner.mib(peak));
        } catch (RuntimeException e) {
            if (OutOfMemoryClassifier.isOutOfMemory(e)) {
                return new BatchSizeTuner.Probe(micro, false, meter.peak(), false, "out of memory: " + firstLine(e.getMessage()));
            }
            throw e;
        }
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
