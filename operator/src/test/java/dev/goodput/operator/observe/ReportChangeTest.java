package dev.goodput.operator.observe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.api.status.TunedBatch;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Which /progress changes trigger a reconcile ({@link ReportChange}), as a table. */
class ReportChangeTest {
    static Stream<Arguments> changes() {
        return Stream.<Arguments>of(
                Arguments.of("steps, loss, throughput and the step clock move", (Consumer<TrainerReport>) r -> {
                    r.progress.step = 1200;
                    r.progress.loss = 0.3;
                    r.progress.samplesPerSecond = 900.0;
                    r.progress.lastStepAt = "2026-01-01T00:10:00Z";
                    r.trainingSeconds = 61.0;
                    r.peakMemoryBytes = 2L << 30;
                }, false),
                Arguments.of("a new phase", (Consumer<TrainerReport>) r -> r.phase = TrainerPhase.Checkpointing, true),
                Arguments.of("a new checkpoint", (Consumer<TrainerReport>) r -> r.lastCheckpoint.step = 2000, true),
                Arguments.of("a failed save", (Consumer<TrainerReport>) r -> r.checkpointFailures = 1, true),
                Arguments.of("the tuned batch", (Consumer<TrainerReport>) r -> r.tunedBatch = new TunedBatch(), true),
                Arguments.of("the target reached", (Consumer<TrainerReport>) r -> r.targetReached = true, true),
                Arguments.of("where it resumed", (Consumer<TrainerReport>) r -> r.resumedFromStep = 1000L, true),
                Arguments.of("the trained model", (Consumer<TrainerReport>) r -> r.model = new dev.goodput.api.status.ModelOutput(), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("changes")
    void onlyWhatTheOperatorActsOnTriggersAReconcile(String what, Consumer<TrainerReport> change, boolean meaningful) {
        TrainerReport before = report();
        TrainerReport after = report();
        change.accept(after);
        assertThat(ReportChange.meaningful(before, after)).isEqualTo(meaningful);
        assertThat(ReportChange.meaningful(before, report())).as("the same answer again").isFalse();
    }

    @org.junit.jupiter.api.Test
    void aPodsFirstAnswerDoes() {
        assertThat(ReportChange.meaningful(null, report())).isTrue();
    }

    static TrainerReport report() {
        TrainerReport r = new TrainerReport();
        r.phase = TrainerPhase.Running;
        r.attempt = 1;
        r.progress = new Progress();
        r.progress.step = 1000;
        r.progress.loss = 0.4;
        r.lastCheckpoint = new CheckpointRef();
        r.lastCheckpoint.step = 1000;
        r.trainingSeconds = 60.0;
        return r;
    }
}
