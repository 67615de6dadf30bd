package dev.goodput.trainer.run;

import dev.goodput.api.status.CheckpointRef;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.loop.RunProgress;
import java.io.PrintStream;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Says what became durable: prints a saved checkpoint and makes it the run's {@code lastCheckpoint} on
 * {@code /progress}, which the operator reads to size the next pod's grace period and to resume. Called from the
 * checkpoint writer's thread; a checkpoint a resume loaded is reported too, with no save time (none was timed).
 */
public final class CheckpointReporter implements Consumer<CheckpointStore.Saved> {
    private final PrintStream out;
    private final RunProgress progress;

    public CheckpointReporter(PrintStream out, RunProgress progress) {
        this.out = out;
        this.progress = progress;
    }

    @Override
    public void accept(CheckpointStore.Saved saved) {
        if (saved.bytes() > 0) {
            out.printf(Locale.ROOT, "checkpoint step %d: %.1f MB persisted in %.0f ms -> %s%n",
                    saved.step(), saved.bytes() / 1e6, saved.seconds() * 1000, saved.path());
        }
        CheckpointRef ref = new CheckpointRef();
        ref.step = saved.step();
        ref.path = saved.path().toString();
        ref.bytes = saved.bytes();
        ref.saveSeconds = saved.bytes() > 0 ? saved.seconds() : null; // a resume loaded it: no save was timed
        ref.parametersSha256 = saved.parametersSha256();
        ref.time = Instant.now().toString();
        progress.checkpointed(ref);
    }

    /** The checkpoint a resume loaded is the newest durable one until the next save. */
    public void resumed(CheckpointStore.Loaded loaded) {
        accept(new CheckpointStore.Saved(loaded.snapshot().state().step(), loaded.path(), 0, 0,
                CheckpointStore.parametersSha256(loaded.path()), List.of()));
    }
}
