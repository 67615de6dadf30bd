package dev.goodput.trainer.tune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The search itself, against a memory curve whose largest fit is known exactly. */
class BatchSizeTunerTest {
    static final long MIB = 1 << 20;

    /**
     * Stands in for a device's memory (named so; the real probes are in CpuBatchTuningTest): base plus a per-example
     * cost with a little curvature, so the tuner's straight-line model is never exactly right.
     */
    record CurvedMemoryFake(long base, long perExample, List<Integer> probed) implements BatchSizeTuner.ProbeRunner {
        long bytes(int micro) {
            return base + perExample * micro + (long) (perExample * 0.01 * micro * micro / 64.0);
        }

        @Override
        public long baselineBytes() {
            return base;
        }

        @Override
        public BatchSizeTuner.Probe run(int micro) {
            probed.add(micro);
            return new BatchSizeTuner.Probe(micro, true, bytes(micro), false, "fake");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {9, 17, 40, 100, 127, 128, 129, 300, 511, 700, 1000, 1024})
    void findsTheLargestFitWithinTenPercentInAtMostEightProbes(int trueMax) {
        CurvedMemoryFake fake = new CurvedMemoryFake(900 * MIB, 2 * MIB, new ArrayList<>());
        long budget = fake.bytes(trueMax); // exactly trueMax fits, trueMax + 1 does not
        assertThat(fake.bytes(trueMax + 1)).isGreaterThan(budget);

        BatchSizeTuner.Result r = new BatchSizeTuner(budget, 0.10, 8).tune(4096, fake);

        System.out.printf("true max %d: probes %s -> %s%n", trueMax, fake.probed(), r.probes().stream().map(p -> p.micro() + (p.fits() ? "+" : "-") + (p.predicted() ? "p" : "")).toList());
        assertThat(fake.probed()).as("probes run").hasSizeLessThanOrEqualTo(8);
        assertThat(r.probesRun()).isEqualTo(fake.probed().size());
        assertThat(fake.probed()).allMatch(m -> fake.bytes(m) <= budget, "no probe is run past the budget");
        assertThat(r.largestFit()).isLessThanOrEqualTo(trueMax).isGreaterThanOrEqualTo((int) Math.ceil(trueMax * 0.97) - 1);
        assertThat(r.micro()).isLessThanOrEqualTo(trueMax).isGreaterThanOrEqualTo((int) Math.floor(trueMax * 0.9) - 1);
        System.out.printf("true max %d: largest fit %d, chosen %d, probes %s%n", trueMax, r.largestFit(), r.micro(), fake.probed());
    }

    /**
     * Stands in for a process whose first probe pays fixed costs once (the model, the optimizer's state, the loader's
     * threads): measured on a CPU, ResNet-50 at width 16 took 353 MiB at micro-batch 8 and 363 MiB at 15, about 1.4 MiB
     * per example, over roughly 220 MiB in use before any probe (what the tuner's prediction of 491 MiB at 16 implies).
     */
    record FixedCostFake(long baseline, long fixed, long perExample, List<Integer> probed) implements BatchSizeTuner.ProbeRunner {
        long bytes(int micro) {
            return baseline + fixed + perExample * micro;
        }

        @Override
        public long baselineBytes() {
            return baseline;
        }

        @Override
        public BatchSizeTuner.Probe run(int micro) {
            probed.add(micro);
            return new BatchSizeTuner.Probe(micro, true, bytes(micro), false, "fake");
        }
    }

    @Test
    void aBoundOnlyPredictedFromTheFirstProbeIsLookedAtAgainOnceTheGrowthIsKnown() {
        FixedCostFake fake = new FixedCostFake(215 * MIB, 127 * MIB, (long) (1.4 * MIB), new ArrayList<>());
        long budget = 480 * MIB;
        int trueMax = (int) ((budget - 342 * MIB) / (long) (1.4 * MIB));
        BatchSizeTuner.Result r = new BatchSizeTuner(budget, 0.10, 8).tune(1024, fake);
        System.out.printf("fixed costs: probes %s -> %s, largest fit %d of %d%n", fake.probed(), r.probes().stream()
                .map(p -> p.micro() + (p.fits() ? "+" : "-") + (p.predicted() ? "p" : "")).toList(), r.largestFit(), trueMax);
        // The line from the baseline through the first probe says 16 would need 491 MiB; the truth is 364 MiB.
        assertThat(r.probes().get(1).predicted()).isTrue();
        assertThat(r.largestFit()).isGreaterThanOrEqualTo((int) (trueMax * 0.9)).isLessThanOrEqualTo(trueMax);
        assertThat(fake.probed()).hasSizeLessThanOrEqualTo(8).allMatch(m -> fake.bytes(m) <= budget, "no probe past the budget");
    }

    @Test
    void takesTheWholeGlobalBatchWhenItFits() {
        CurvedMemoryFake fake = new CurvedMemoryFake(100 * MIB, MIB, new ArrayList<>());
        BatchSizeTuner.Result r = new BatchSizeTuner(10_000 * MIB, 0.10, 8).tune(128, fake);
        assertThat(r.micro()).isEqualTo(128);
        assertThat(fake.probed()).hasSizeLessThanOrEqualTo(4).endsWith(128);
    }

    @Test
    void aBudgetTooSmallForAnyBatchSaysWhatTheSmallestProbeNeeded() {
        CurvedMemoryFake fake = new CurvedMemoryFake(900 * MIB, 2 * MIB, new ArrayList<>());
        assertThatThrownBy(() -> new BatchSizeTuner(500 * MIB, 0.10, 8).tune(128, fake))
                .isInstanceOf(BudgetTooSmallException.class)
                .hasMessageContaining("spec.training.memoryBudget: 500 MiB is too small")
                .hasMessageContaining("the smallest probe (micro-batch 1) needed 902 MiB");
    }
}
