package dev.goodput.api.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.goodput.api.cost.CostToTarget.Attempt;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The cost-to-target rule as a table: attempts in order, what was spent before them, and the expected dollars. */
class CostToTargetTest {
    record Row(String why, double before, List<Attempt> attempts, Double expected, double total) {}

    static Attempt reached(double seconds, Double price) {
        return new Attempt(seconds, price, true);
    }

    static Attempt notReached(double seconds, Double price) {
        return new Attempt(seconds, price, false);
    }

    static final List<Row> TABLE = List.of(
            new Row("no attempts: no target reached", 0, List.of(), null, 0),
            new Row("one attempt, target not reached", 0, List.of(notReached(3600, 10.0)), null, 10),
            new Row("one attempt that reached it: its whole billed time", 0, List.of(reached(1800, 10.0)), 5.0, 5),
            new Row("preempted attempts before it count, their work kept or lost", 0,
                    List.of(notReached(3600, 10.0), notReached(1200, 10.0), reached(600, 10.0)), 10 + 10 / 3.0 + 10 / 6.0,
                    10 + 10 / 3.0 + 10 / 6.0),
            new Row("each attempt at its own price (spot, then on-demand)", 0,
                    List.of(notReached(3600, 2.0), reached(3600, 6.0)), 8.0, 8),
            new Row("only the first attempt that reached it: later ones (a restart after success) do not count", 0,
                    List.of(reached(3600, 10.0), reached(3600, 10.0), notReached(60, 10.0)), 10.0, 10 + 10 + 10 / 60.0),
            new Row("no price: no cost, so reached at 0 dollars, never null", 0,
                    List.of(notReached(3600, null), reached(3600, null)), 0.0, 0),
            new Row("an attempt without a price adds nothing to priced ones", 0,
                    List.of(notReached(3600, null), reached(1800, 4.0)), 2.0, 2),
            new Row("folded attempts' dollars come first", 19.0, List.of(reached(360, 10.0)), 20.0, 1),
            new Row("folded attempts alone never reach it", 19.0, List.of(notReached(360, 10.0)), null, 1),
            new Row("zero billed seconds (pod never bound) cost nothing", 0,
                    List.of(notReached(0, 10.0), reached(36, 10.0)), 0.1, 0.1));

    @Test
    void table() {
        for (Row r : TABLE) {
            Double got = CostToTarget.dollars(r.before(), r.attempts());
            if (r.expected() == null) {
                assertThat(got).as(r.why()).isNull();
            } else {
                assertThat(got).as(r.why()).isNotNull().isCloseTo(r.expected(), within(1e-9));
            }
            assertThat(CostToTarget.total(r.attempts())).as(r.why() + " (total)").isCloseTo(r.total(), within(1e-9));
            if (r.before() == 0) {
                assertThat(CostToTarget.dollars(r.attempts())).as(r.why() + " (no folded)").isEqualTo(got);
            }
        }
    }

    @Test
    void anAttemptCostsSecondsTimesThePerSecondPrice() {
        // The operator's ledger computed billed × (price / 3600) before this class existed; the same bits now.
        double billed = 3614.137, price = 2.93;
        assertThat(new Attempt(billed, price, false).cost()).isEqualTo(billed * (price / 3600.0));
        assertThat(new Attempt(billed, null, true).cost()).isZero();
    }
}
