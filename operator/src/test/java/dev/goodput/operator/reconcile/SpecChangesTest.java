package dev.goodput.operator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.spec.TrainingJobSpec;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@link SpecChanges} reports between the spec an attempt ran and the next one's, as a table. */
class SpecChangesTest {
    static Stream<Arguments> edits() {
        return Stream.of(
                Arguments.of("nothing", (Consumer<TrainingJobSpec>) s -> {}, List.of(), ""),
                Arguments.of("a budget", (Consumer<TrainingJobSpec>) s -> s.training.maxDuration = "2h",
                        List.of("spec.training.maxDuration"), "spec.training.maxDuration 30m -> 2h"),
                Arguments.of("a nested value", (Consumer<TrainingJobSpec>) s -> s.training.optimizer.lr = 0.01,
                        List.of("spec.training.optimizer.lr"), "spec.training.optimizer.lr 0.001 -> 0.01"),
                Arguments.of("a field set for the first time", (Consumer<TrainingJobSpec>) s -> s.backoffLimit = 5,
                        List.of("spec.backoffLimit"), "spec.backoffLimit (unset) -> 5"),
                Arguments.of("a field removed", (Consumer<TrainingJobSpec>) s -> s.training.maxDuration = null,
                        List.of("spec.training.maxDuration"), "spec.training.maxDuration 30m -> (unset)"),
                Arguments.of("two places", (Consumer<TrainingJobSpec>) s -> {
                    s.resources.memory = "8Gi";
                    s.training.seed = 7L;
                }, List.of("spec.resources.memory", "spec.training.seed"),
                        "spec.resources.memory 4Gi -> 8Gi, spec.training.seed 42 -> 7"));
    }

    static TrainingJobSpec base() {
        TrainingJobSpec s = new TrainingJobSpec();
        s.training.maxDuration = "30m";
        s.resources.memory = "4Gi";
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("edits")
    void reportsThePathsThatChanged(String what, Consumer<TrainingJobSpec> edit, List<String> paths, String described) {
        String kept = SpecChanges.serialize(base());
        TrainingJobSpec now = base();
        edit.accept(now);
        assertThat(SpecChanges.changed(kept, now)).isEqualTo(paths);
        assertThat(SpecChanges.describe(kept, now, paths)).isEqualTo(described);
    }

    @org.junit.jupiter.api.Test
    void theFirstAttemptHasNothingToCompareWith() {
        assertThat(SpecChanges.changed(null, base())).isEmpty();
    }
}
