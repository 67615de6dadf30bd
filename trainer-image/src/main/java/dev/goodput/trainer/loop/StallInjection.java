package dev.goodput.trainer.loop;

import java.util.concurrent.locks.LockSupport;

/**
 * Test-only: with {@value #PROPERTY}{@code =N} the training thread stops for good before step N + 1, as a trainer whose
 * step hangs (a dead collective, a stuck device) does, while /progress keeps answering. For the operator's stall
 * detection tests. Nothing sets the property outside the tests; when it is absent, {@link #before} is one read of a
 * final field.
 */
final class StallInjection {
    static final String PROPERTY = "goodput.faultInjection.stallAtStep";
    private static final long AT = Long.getLong(PROPERTY, -1);

    private StallInjection() {}

    static void before(long step) {
        if (AT < 0 || step != AT) return;
        System.err.println("goodput fault injection: the training thread stalls at step " + step);
        System.err.flush();
        while (true) {
            LockSupport.park();
        }
    }
}
