package dev.goodput.trainer.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.goodput.api.spec.TrainingJobSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** When an explicit warmup is refused as longer than the run ({@link RunPlanner#checkHorizon}), as a table. */
class RunPlannerHorizonTest {
    @ParameterizedTest(name = "warmup {0}, epochs {1}, maxSteps {2}: refused {3}")
    @CsvSource(nullValues = "-", value = {
        // warmup, epochs, maxSteps, refused (60,000 examples at global batch 128: 468 steps an epoch)
        "5000, -, 100, true",
        "100, -, 100, true",
        "99, -, 100, false",
        "400, 1, -, false",
        "468, 1, -, true",
        "468, 2, -, false",
        "468, 2, 400, true",
        "5000, -, -, false", // a time budget or a target only: no planned length
        "-, -, 10, false"})
    void aWarmupThatIsNotShorterThanThePlannedRunIsRefused(Integer warmup, Integer epochs, Long maxSteps, boolean refused) {
        TrainingJobSpec spec = new TrainingJobSpec();
        spec.training.globalBatchSize = 128;
        spec.training.schedule.warmupSteps = warmup;
        spec.training.epochs = epochs;
        spec.training.maxSteps = maxSteps;
        Throwable t = catchThrowable(() -> RunPlanner.checkHorizon(spec, 60_000));
        if (refused) {
            assertThat(t).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("spec.training.schedule.warmupSteps: " + warmup + " warmup steps in a run of");
        } else {
            assertThat(t).isNull();
        }
    }
}
