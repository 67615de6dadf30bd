package dev.goodput.trainer.loop;

/**
 * Samples per second and the data-wait share over a sliding window of recent steps (exponentially weighted), so the
 * console and /progress show current speed rather than the average since start, which hides slowdowns.
 */
final class ThroughputMeter {
    private static final double ALPHA = 0.1;
    private double secondsPerSample = Double.NaN;
    private double waitShare = Double.NaN;
    private long totalWaitNanos;
    private long totalStepNanos;

    void record(int samples, long stepNanos, long waitNanos) {
        double sps = stepNanos / 1e9 / samples;
        double share = stepNanos == 0 ? 0 : (double) waitNanos / stepNanos;
        secondsPerSample = Double.isNaN(secondsPerSample) ? sps : secondsPerSample + ALPHA * (sps - secondsPerSample);
        waitShare = Double.isNaN(waitShare) ? share : waitShare + ALPHA * (share - waitShare);
        totalWaitNanos += waitNanos;
        totalStepNanos += stepNanos;
    }

    double samplesPerSecond() {
        return Double.isNaN(secondsPerSample) ? 0 : 1 / secondsPerSample;
    }

    double recentWaitShare() {
        return Double.isNaN(waitShare) ? 0 : waitShare;
    }

    double overallWaitShare() {
        return totalStepNanos == 0 ? 0 : (double) totalWaitNanos / totalStepNanos;
    }
}
