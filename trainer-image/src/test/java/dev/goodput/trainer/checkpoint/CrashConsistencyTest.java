package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.TrainerProcess;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The trainer is killed with a real SIGKILL at every instant of the save protocol in turn ({@link SavePoint}, through
 * the test-only {@link FaultInjection} hook): one run per point, each resuming what the run before it left. After
 * every kill the newest checkpoint that verifies is at least as new as before, and no more than {@code keep + 1}
 * checkpoint folders exist; the job then finishes with parameters and optimizer state byte-identical to a run that was
 * never interrupted, no failed save in any run's log, and no leftovers on disk.
 */
class CrashConsistencyTest {
    // Each killed run trains until its third save (about 100 steps apart at a 100 ms interval on this machine), so the
    // chain of 26 kills passes about 2,900 steps; with 3,000 an idle machine once finished the job before the last
    // kill points were reached. Twice that leaves room.
    static final int STEPS = 6000;

    @Test
    void killedAtEveryPointOfTheSaveProtocolTheJobEndsByteIdentical(@TempDir Path dir) throws Exception {
        InterruptedJob job = InterruptedJob.write(dir, STEPS);
        String expected = job.referenceHash();

        Path checkpoints = dir.resolve("crashed");
        JobFolder folder = InterruptedJob.folder(checkpoints);
        List<String> journal = new ArrayList<>();
        long newestValid = -1;
        for (SavePoint point : chainOrder()) {
            // Saves reach a point once each; the third save is past the first resume and has folders to retire.
            // Discards happen only where there is something to retire, and leftovers are met when a run opens.
            int occurrence = switch (point) {
                case LEFTOVER_REMOVED, DISCARD_RENAMED, DISCARD_HALF_DELETED -> 1;
                default -> 3;
            };
            String kill = point + "@" + occurrence;
            try (TrainerProcess p = job.start(checkpoints, dir.resolve(point + ".json"),
                    List.of("-D" + FaultInjection.PROPERTY + "=" + kill))) {
                int code = p.waitFor(120);
                String log = String.join("\n", p.lines());
                assertThat(code).as("run killed at %s exits as SIGKILL does; output:%n%s", kill, log).isEqualTo(137);
                assertThat(p.printed("fault injection: SIGKILL at " + point)).as(log).isTrue();
                assertThat(InterruptedJob.failedSaves(p.lines())).as(log).isEmpty();
            }
            long valid = folder.newestValidStep();
            assertThat(valid).as("newest valid checkpoint after a kill at %s", kill).isGreaterThanOrEqualTo(Math.max(0, newestValid));
            assertThat(folder.stepFolderCount()).as("step folders after a kill at %s", kill).isLessThanOrEqualTo(InterruptedJob.KEEP + 1);
            journal.add(kill + " -> newest valid step " + valid + ", leftovers " + folder.leftovers());
            newestValid = valid;
        }
        try (TrainerProcess p = job.start(checkpoints, dir.resolve("final.json"), List.of())) {
            assertThat(p.waitFor(300)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.FINISHED);
            assertThat(p.printed("resumed from")).isTrue();
            assertThat(InterruptedJob.failedSaves(p.lines())).isEmpty();
        }
        System.out.println("crash points:\n  " + String.join("\n  ", journal));
        assertThat(folder.stateHash(STEPS)).as("after kills at %s", journal).isEqualTo(expected);
        assertThat(folder.leftovers()).isEmpty();
        assertThat(folder.stepFolderCount()).isLessThanOrEqualTo(InterruptedJob.KEEP);
    }

    /**
     * Protocol order, with the leftover point last: the run before it dies half-way through discarding a folder,
     * which leaves the leftover that the last run meets when it opens the store.
     */
    static List<SavePoint> chainOrder() {
        List<SavePoint> order = new ArrayList<>(List.of(SavePoint.values()));
        order.remove(SavePoint.LEFTOVER_REMOVED);
        order.add(SavePoint.LEFTOVER_REMOVED);
        return order;
    }
}
