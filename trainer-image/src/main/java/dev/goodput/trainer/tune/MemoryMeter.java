package dev.goodput.trainer.tune;

import ai.djl.Device;
import ai.djl.util.cuda.CudaUtils;
import dev.goodput.trainer.metrics.ProcessMemory;

/** What a probe's memory is measured in: the process's resident set on CPU, the device's used memory on a GPU. */
public interface MemoryMeter {
    /** Memory in use now. */
    long current();

    /** Starts a new measurement window. */
    void resetPeak();

    /** The most in use since {@link #resetPeak()}. */
    long peak();

    /** Host RAM, native allocations included, as a container's memory limit counts it. */
    static MemoryMeter host() {
        return new MemoryMeter() {
            @Override
            public long current() {
                return ProcessMemory.residentBytes();
            }

            @Override
            public void resetPeak() {
                ProcessMemory.resetPeak();
            }

            @Override
            public long peak() {
                return ProcessMemory.peakResidentBytes();
            }
        };
    }

    /**
     * A GPU's used memory as the driver reports it (DJL's CudaUtils.getGpuMemory). libtorch's caching allocator keeps
     * what a step reserved, so the used memory after the probe's steps is their peak.
     */
    static MemoryMeter cuda(Device device) {
        return new MemoryMeter() {
            private long peak;

            @Override
            public long current() {
                long used = CudaUtils.getGpuMemory(device).getCommitted();
                peak = Math.max(peak, used);
                return used;
            }

            @Override
            public void resetPeak() {
                peak = 0;
            }

            @Override
            public long peak() {
                return Math.max(peak, current());
            }
        };
    }

    /** The device's total memory, the default budget on a GPU. */
    static long cudaTotal(Device device) {
        return CudaUtils.getGpuMemory(device).getMax();
    }
}
