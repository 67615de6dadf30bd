package dev.goodput.trainer.tune;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the largest micro-batch that fits the memory budget: double from a small size until the first failure, then
 * bisect between the last good and the first bad size, and keep a safety margin. A probe that the measured growth of
 * the smaller probes predicts would exceed the budget counts as a failure without being run, so on CPU no probe is
 * ever run into the OOM killer; on a GPU a real out-of-memory error from a probe is also a failure.
 */
public final class BatchSizeTuner {
    /** Where doubling starts: small enough to fit anything that can train at all. */
    public static final int FIRST_PROBE = 8;
    /** The furthest one probe extrapolates: memory can grow faster than linearly, and the error grows with the leap. */
    static final int MAX_LEAP = 8;
    /**
     * The least rise in memory between the last two probes that a leap beyond doubling is based on. Below it the rise
     * is within the resident set's noise (a few MiB) and the slope it gives may be near zero: ResNet-20 at width 8 rose
     * 3 MiB from 16 to 58 examples, the line through them said 464 would fit 450 MiB, and 464 used 821 MiB.
     */
    static final long MIN_RISE_FOR_LEAP = 16L << 20;

    /** Runs a few real training steps at a micro-batch size and says whether they fit, and how much memory they took. */
    public interface ProbeRunner {
        Probe run(int micro);

        /** Memory in use before any probe (the model-free floor), or 0 when unknown. */
        default long baselineBytes() {
            return 0;
        }
    }

    /** One probe. {@code predicted} probes were judged from the memory model and never run. */
    public record Probe(int micro, boolean fits, long peakBytes, boolean predicted, String note) {}

    public record Result(int micro, int largestFit, List<Probe> probes, double seconds) {
        public long probesRun() {
            return probes.stream().filter(p -> !p.predicted()).count();
        }
    }

    private final long budgetBytes;
    private final double margin;
    private final int maxProbes;
    private long baseline;

    public BatchSizeTuner(long budgetBytes, double margin, int maxProbes) {
        this.budgetBytes = budgetBytes;
        this.margin = margin;
        this.maxProbes = maxProbes;
    }

    /**
     * @param upper the largest micro-batch worth having (the global batch): tuning stops there
     * @throws BudgetTooSmallException when not even {@link #FIRST_PROBE} (or 1) fits
     */
    public Result tune(int upper, ProbeRunner runner) {
        long t0 = System.nanoTime();
        baseline = runner.baselineBytes();
        List<Probe> probes = new ArrayList<>();
        int good = 0;
        int bad = Integer.MAX_VALUE;
        int size = Math.min(FIRST_PROBE, upper);
        boolean badPredicted = false;
        while (true) {
            // Phase 1: doubling.
            while (size <= upper && runCount(probes) < maxProbes) {
                Probe p = probe(size, probes, runner);
                probes.add(p);
                if (!p.fits()) {
                    bad = size;
                    badPredicted = p.predicted();
                    break;
                }
                good = size;
                if (size == upper) break;
                // Double, or leap to where the measured growth says memory runs out when that is further: with the
                // guard the model over-predicts, so its estimate almost always fits and saves the doublings in between.
                MemoryModel model = MemoryModel.of(probes, baseline);
                long leap = model.lastRise() >= MIN_RISE_FOR_LEAP ? model.largestFit(budgetBytes) : -1;
                size = (int) Math.min(upper, Math.max(size * 2L, Math.min(leap, size * (long) MAX_LEAP)));
            }
            if (good == 0) {
                // Even the first size failed: look below it before giving up.
                for (int s = size / 2; s >= 1 && good == 0 && runCount(probes) < maxProbes; s /= 2) {
                    Probe p = probe(s, probes, runner);
                    probes.add(p);
                    if (p.fits()) good = s;
                    else bad = s;
                }
                if (good == 0) {
                    Probe smallest = probes.get(probes.size() - 1);
                    throw new BudgetTooSmallException(smallest.micro(), smallest.peakBytes(), budgetBytes);
                }
            }
            // Phase 2: bisect between the last good and the first bad size, aiming first where the memory model points.
            while (bad != Integer.MAX_VALUE && bad - good > Math.max(1, good / 64) && runCount(probes) < maxProbes) {
                int mid = aim(good, bad, probes);
                Probe p = probe(mid, probes, runner);
                probes.add(p);
                if (p.fits()) {
                    good = mid;
                } else {
                    bad = mid;
                    badPredicted = p.predicted();
                }
            }
            // A bound that was only predicted may not survive the probes run since. After one probe the model is a
            // line from the memory in use before any, which charges the first probe's fixed costs (the model, the
            // optimizer's state, the loader) to every example and so over-predicts; once a second probe shows the
            // real growth, the bound is looked at again and, if it now fits, the search goes on from it.
            if (bad == Integer.MAX_VALUE || !badPredicted || runCount(probes) >= maxProbes
                    || MemoryModel.of(probes, baseline).predict(bad) > budgetBytes) {
                break;
            }
            size = bad;
            bad = Integer.MAX_VALUE;
        }
        int chosen = Math.max(1, (int) Math.ceil(good * (1 - margin)));
        return new Result(good == upper ? upper : chosen, good, probes, (System.nanoTime() - t0) / 1e9);
    }

    private Probe probe(int size, List<Probe> earlier, ProbeRunner runner) {
        long predicted = MemoryModel.of(earlier, baseline).predict(size);
        if (predicted > budgetBytes) {
            return new Probe(size, false, predicted, true, "predicted " + mib(predicted) + " > budget " + mib(budgetBytes));
        }
        Probe p = runner.run(size);
        if (p.fits() && p.peakBytes() > budgetBytes) {
            return new Probe(size, false, p.peakBytes(), false, "used " + mib(p.peakBytes()) + " > budget " + mib(budgetBytes));
        }
        return p;
    }

    /** The next size between good and bad: the memory model's largest fit when it has one inside, else the middle. */
    private int aim(int good, int bad, List<Probe> probes) {
        long fit = MemoryModel.of(probes, baseline).largestFit(budgetBytes);
        int mid = good + (bad - good) / 2;
        if (fit > good && fit < bad) {
            // The guarded model under-estimates the largest fit, so a probe there usually fits and ends the search.
            return (int) fit;
        }
        return mid;
    }

    private static long runCount(List<Probe> probes) {
        return probes.stream().filter(p -> !p.predicted()).count();
    }

    static String mib(long bytes) {
        return (bytes >> 20) + " MiB";
    }

    /**
     * Memory as a function of the micro-batch, fitted to the successful probes (and the memory in use before any).
     * Beyond the last probe it predicts the larger of two estimates: the line through the last two points with its
     * growth inflated by {@link #GROWTH_GUARD}, and the parabola through the last three, which follows memory that grows
     * faster than linearly (allocator rounding, workspaces). Under-predicting would run a probe into the OOM killer.
     */
    record MemoryModel(List<long[]> points) {
        static final double GROWTH_GUARD = 1.10;

        static MemoryModel of(List<Probe> probes, long baseline) {
            java.util.TreeMap<Long, Long> byMicro = new java.util.TreeMap<>();
            if (baseline > 0) byMicro.put(0L, baseline);
            for (Probe p : probes) {
                if (p.fits() && !p.predicted()) byMicro.put((long) p.micro(), p.peakBytes());
            }
            List<long[]> pts = new ArrayList<>();
            byMicro.forEach((k, v) -> pts.add(new long[] {k, v}));
            return new MemoryModel(pts);
        }

        /** How much memory rose between the last two points, 0 without two. */
        long lastRise() {
            if (points.size() < 2) return 0;
            return points.get(points.size() - 1)[1] - points.get(points.size() - 2)[1];
        }

        boolean usable() {
            return points.size() >= 2 && points.get(points.size() - 1)[0] > 0;
        }

        /** 0 when there is no model yet (nothing can be ruled out without running). */
        long predict(long size) {
            if (!usable()) return 0;
            long[] b = points.get(points.size() - 1);
            long[] a = points.get(points.size() - 2);
            double slope = Math.max(0, (double) (b[1] - a[1]) / (b[0] - a[0]));
            double growth = slope * (size - b[0]);
            double linear = b[1] + (growth > 0 ? growth * GROWTH_GUARD : growth);
            if (points.size() < 3 || size <= b[0]) return (long) linear;
            long[] c = points.get(points.size() - 3);
            double quadratic = lagrange(c, a, b, size);
            return (long) Math.max(linear, quadratic);
        }

        /** The largest size predicted to fit the budget, or -1 without a model. */
        long largestFit(long budget) {
            if (!usable()) return -1;
            long lo = points.get(points.size() - 1)[0];
            if (predict(lo + 1) > budget) return lo;
            long hi = Math.max(2, lo) * 64;
            while (hi - lo > 1) {
                long mid = (lo + hi) >>> 1;
                if (predict(mid) <= budget) lo = mid;
                else hi = mid;
            }
            return lo;
        }

        private static double lagrange(long[] p0, long[] p1, long[] p2, double x) {
            double x0 = p0[0], x1 = p1[0], x2 = p2[0];
            return p0[1] * (x - x1) * (x - x2) / ((x0 - x1) * (x0 - x2))
                    + p1[1] * (x - x0) * (x - x2) / ((x1 - x0) * (x1 - x2))
                    + p2[1] * (x - x0) * (x - x1) / ((x2 - x0) * (x2 - x1));
        }
    }
}
