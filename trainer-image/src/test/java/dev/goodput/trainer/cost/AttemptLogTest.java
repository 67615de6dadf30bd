package dev.goodput.trainer.cost;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.cost.CostToTarget;
import dev.goodput.trainer.cost.AttemptLog.Attempt;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Each process adds itself, billed for its uptime at its snapshot, after the attempts restored from its checkpoint. */
class AttemptLogTest {
    final AtomicLong now = new AtomicLong(1_000_000);
    final AtomicBoolean reached = new AtomicBoolean();

    AttemptLog log(int attempt, long startMillis, Double price) {
        return new AttemptLog(attempt, startMillis, price, reached::get, now::get);
    }

    @Test
    void aProcessIsBilledFromItsStartToEachSnapshot() {
        AttemptLog log = log(1, 400_000, 3.0);
        assertThat(log.recorded()).isEmpty();
        assertThat(log.save().attempts()).containsExactly(new Attempt(1, 600, 3.0, false));
        now.set(1_360_000);
        reached.set(true);
        assertThat(log.save().attempts()).containsExactly(new Attempt(1, 960, 3.0, true));
        assertThat(log.recorded()).as("what the report counts: the last snapshot").containsExactly(new Attempt(1, 960, 3.0, true));
    }

    @Test
    void restoredAttemptsComeFirstAndKeepTheirPriceAndTarget() {
        List<Attempt> earlier = List.of(new Attempt(1, 3600, 10.0, false), new Attempt(2, 1800, null, false));
        AttemptLog log = log(3, 1_000_000 - 360_000, 6.0);
        log.restore(new AttemptLog.State(earlier));
        assertThat(log.recorded()).isEqualTo(earlier);
        reached.set(true);
        List<Attempt> all = log.save().attempts();
        assertThat(all).containsExactly(earlier.get(0), earlier.get(1), new Attempt(3, 360, 6.0, true));
        // The shared rule over them: $10 + no price + 360 s at $6/h.
        assertThat(CostToTarget.dollars(all.stream().map(Attempt::billed).toList())).isEqualTo(10.0 + 0.6);
    }

    @Test
    void aTargetMetBeforeThisProcessIsNotThisProcesssToo() {
        // A pod restarted after success resumes a checkpoint whose target is already reached: cost to target stays.
        AttemptLog log = log(2, 0, 1.0);
        log.restore(new AttemptLog.State(List.of(new Attempt(1, 7200, 1.0, true))));
        reached.set(true);
        List<Attempt> all = log.save().attempts();
        assertThat(all.get(1).reachedTarget()).isFalse();
        assertThat(CostToTarget.dollars(all.stream().map(Attempt::billed).toList())).isEqualTo(2.0);
    }

    @Test
    void onALaptopEveryRunIsAttempt0SoTheyAreCountedOnFromTheRecord() {
        AttemptLog second = log(0, 0, null);
        second.restore(new AttemptLog.State(List.of(new Attempt(0, 60, null, false))));
        assertThat(second.save().attempts()).extracting(Attempt::attempt).containsExactly(0, 1);
        AttemptLog onCluster = log(7, 0, null);
        onCluster.restore(new AttemptLog.State(List.of(new Attempt(4, 60, null, false))));
        assertThat(onCluster.save().attempts()).as("the operator's number wins").extracting(Attempt::attempt).containsExactly(4, 7);
    }

    @Test
    void aClockBeforeTheStartBillsNothingRatherThanANegativeAmount() {
        assertThat(log(1, 2_000_000, 1.0).save().attempts().get(0).billedSeconds()).isZero();
    }
}
