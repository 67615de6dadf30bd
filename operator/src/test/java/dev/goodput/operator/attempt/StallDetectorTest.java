package dev.goodput.operator.attempt;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.spec.StallSpec;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** When {@link StallDetector} calls a trainer stalled, as a table. */
class StallDetectorTest {
    static final Instant NOW = Instant.parse("2026-01-01T01:00:00Z");

    static Stream<Arguments> cases() {
        return Stream.of(
                // what, phase, seconds since the last step, samples/s (global batch 128), spec timeout, stalled for
                Arguments.of("the default floor: 5 minutes", "Running", 301, 10_000.0, null, 301L),
                Arguments.of("within the floor", "Running", 299, 10_000.0, null, null),
                Arguments.of("slow steps: 50 step times (128 / 12.8 = 10 s a step: 500 s)", "Running", 499, 12.8, null, null),
                Arguments.of("slow steps, past 50 step times", "Running", 501, 12.8, null, 501L),
                Arguments.of("no throughput known yet: the floor", "Running", 301, null, null, 301L),
                Arguments.of("the spec's timeout", "Running", 31, 10_000.0, "30s", 31L),
                Arguments.of("the spec's timeout, not past", "Running", 29, 10_000.0, "30s", null),
                Arguments.of("tuning takes no steps", "Tuning", 3600, 10_000.0, "30s", null),
                Arguments.of("nor does a foreground save", "Checkpointing", 3600, 10_000.0, "30s", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void stalledAfterItsTimeoutOnlyWhileRunning(String what, String phase, int secondsSinceStep, Double samplesPerSecond,
            String timeout, Long stalledSeconds) {
        TrainerReport live = new TrainerReport();
        live.phase = TrainerPhase.valueOf(phase);
        live.progress = new Progress();
        live.progress.lastStepAt = NOW.minusSeconds(secondsSinceStep).toString();
        live.progress.samplesPerSecond = samplesPerSecond;
        TrainingJobSpec spec = new TrainingJobSpec();
        if (timeout != null) {
            spec.stall = new StallSpec();
            spec.stall.timeout = timeout;
        }
        Duration stalled = StallDetector.stalledFor(live, spec, NOW);
        assertThat(stalled == null ? null : stalled.toSeconds()).isEqualTo(stalledSeconds);
    }

    @org.junit.jupiter.api.Test
    void aTrainerThatReportsNoStepTimeIsNeverStalled() {
        TrainerReport live = new TrainerReport();
        live.phase = TrainerPhase.Running;
        live.progress = new Progress();
        assertThat(StallDetector.stalledFor(live, new TrainingJobSpec(), NOW)).isNull();
        assertThat(StallDetector.stalledFor(null, new TrainingJobSpec(), NOW)).isNull();
    }

    static Stream<Arguments> rechecks() {
        return Stream.of(
                // what, phase, seconds since the last step, spec timeout, seconds until the look that finds a stall
                Arguments.of("the floor: 5 min after the last step, plus the margin", "Running", 0, null, 301L),
                Arguments.of("part of the floor gone", "Running", 200, null, 101L),
                Arguments.of("already past: look again soon", "Running", 400, null, 1L),
                Arguments.of("the spec's timeout", "Running", 10, "30s", 21L),
                Arguments.of("tuning: nothing to watch", "Tuning", 0, "30s", null));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rechecks")
    void aRunningTrainerIsLookedAtAgainWhenItsStallWouldBeDue(String what, String phase, int secondsSinceStep,
            String timeout, Long recheckSeconds) {
        TrainerReport live = new TrainerReport();
        live.phase = TrainerPhase.valueOf(phase);
        live.progress = new Progress();
        live.progress.lastStepAt = NOW.minusSeconds(secondsSinceStep).toString();
        live.progress.samplesPerSecond = 10_000.0;
        TrainingJobSpec spec = new TrainingJobSpec();
        if (timeout != null) {
            spec.stall = new StallSpec();
            spec.stall.timeout = timeout;
        }
        Duration recheck = StallDetector.untilStalled(live, spec, NOW);
        assertThat(recheck == null ? null : recheck.toSeconds()).isEqualTo(recheckSeconds);
        if (recheck != null && "Running".equals(phase)) {
            assertThat(StallDetector.stalledFor(live, spec, NOW.plus(recheck))).as("the look then finds the stall").isNotNull();
        }
    }
}
