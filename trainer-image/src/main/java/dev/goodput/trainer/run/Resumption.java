package dev.goodput.trainer.run;

import ai.djl.ndarray.NDManager;
import dev.goodput.api.status.TunedBatch;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.CheckpointedStates;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.loop.RunProgress;
import java.io.IOException;
import java.io.PrintStream;
import java.util.Optional;

/**
 * Where a run starts: the newest checkpoint that verifies, if any, put back into freshly assembled components (arrays
 * through {@link ModelState}, everything else through the {@link CheckpointedStates} by key), with what was skipped
 * or overridden on the way said on the console.
 */
public final class Resumption {
    private final Optional<CheckpointStore.Loaded> loaded;

    private Resumption(Optional<CheckpointStore.Loaded> loaded) {
        this.loaded = loaded;
    }

    /** Finds the newest good checkpoint of {@code store}; nothing is restored yet. */
    public static Resumption find(CheckpointStore store) {
        try {
            return new Resumption(store.loadLatest());
        } catch (IOException e) {
            throw new IllegalStateException("cannot resume: " + e.getMessage(), e);
        }
    }

    /** The batch the checkpoint's run chose, which the batch planner keeps. */
    public Optional<TunedBatch> tunedBatch() {
        return loaded.map(l -> l.snapshot().state().tunedBatch());
    }

    /** Restores the checkpoint, if there is one, into the components and the run's progress. */
    public void restore(Components c, CheckpointedStates states, NDManager manager, RunProgress progress,
                        CheckpointReporter reporter, PrintStream out) {
        if (loaded.isEmpty()) return;
        CheckpointStore.Loaded l = loaded.get();
        for (String s : l.skipped()) out.println("checkpoint skipped: " + s);
        if (l.latestOverridden() != null) out.println("checkpoint: " + l.latestOverridden());
        ModelState.restore(l.snapshot(), c.arrays(), c.optimizer(), manager);
        for (String key : states.restore(l.snapshot().state().components())) {
            out.println("checkpoint: state " + key + " not restored: no component of this run has it (was spec.training changed?)");
        }
        reporter.resumed(l);
        out.printf("resumed from %s (step %d, epoch %d)%n", l.path(), l.snapshot().state().step(), progress.position().epoch() + 1);
    }
}
