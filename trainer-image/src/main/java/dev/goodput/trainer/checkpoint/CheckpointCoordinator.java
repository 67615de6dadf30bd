package dev.goodput.trainer.checkpoint;

import dev.goodput.trainer.metrics.TrainerMetrics;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;

/**
 * When and how checkpoints are taken. Periodic saves are two-phase (CheckFreq): the caller snapshots to host memory
 * between steps and this class persists it on a background thread while training goes on. A save on SIGTERM or at
 * the end persists in the foreground.
 *
 * <p>No failure is silent: a failed save is logged, counted ({@code goodput_trainer_checkpoint_failures_total}),
 * reported on {@code /progress} until a save succeeds, and retried at the next interval. After
 * {@link #MAX_CONSECUTIVE_FAILURES} failed saves in a row {@link #failingRepeatedly()} tells the loop to stop: a full
 * disk or a lost volume does not heal by itself, and training on would put ever more work at risk.
 */
public final class CheckpointCoordinator implements AutoCloseable {
    public static final int MAX_CONSECUTIVE_FAILURES = 3;

    /** A save that did not become durable; {@code consecutive} counts the failures since the last good save. */
    public record Failure(long step, String cause, String message, int consecutive) {}

    private final CheckpointStore store;
    private final Duration interval;
    private final TrainerMetrics metrics;
    private final Consumer<CheckpointStore.Saved> onSaved;
    private final Consumer<Failure> onFailed;
    private final Consumer<String> log;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "goodput-checkpoint-writer");
        t.setDaemon(true);
        return t;
    });
    private Future<?> pending;
    private double lastSaveAt;
    private volatile long lastSavedStep = -1;
    private volatile Failure lastFailure;

    public CheckpointCoordinator(CheckpointStore store, Duration interval, TrainerMetrics metrics,
                                 Consumer<CheckpointStore.Saved> onSaved, Consumer<Failure> onFailed, Consumer<String> log) {
        this.store = store;
        this.interval = interval;
        this.metrics = metrics;
        this.onSaved = onSaved;
        this.onFailed = onFailed;
        this.log = log;
    }

    public CheckpointStore store() {
        return store;
    }

    /** Training time at which the clock for the periodic interval starts (the resumed time on a resume). */
    public void startClock(double trainingSeconds, long resumedStep) {
        lastSaveAt = trainingSeconds;
        lastSavedStep = resumedStep;
    }

    /** A periodic save is due; after a failed one, the next try comes one interval later. */
    public boolean periodicDue(double trainingSeconds) {
        return trainingSeconds - lastSaveAt >= interval.toMillis() / 1000.0;
    }

    public long lastSavedStep() {
        return lastSavedStep;
    }

    /** Why the last save failed, or null when the last save succeeded. */
    public String lastError() {
        Failure f = lastFailure;
        return f == null ? null : f.message();
    }

    /** {@link #MAX_CONSECUTIVE_FAILURES} saves in a row have failed: the attempt must stop. */
    public boolean failingRepeatedly() {
        Failure f = lastFailure;
        return f != null && f.consecutive() >= MAX_CONSECUTIVE_FAILURES;
    }

    /** Phase two in the background. If the previous save is still being written, wait for it: one in flight at most. */
    public void saveInBackground(Snapshot snapshot, double trainingSeconds, double snapshotSeconds) {
        metrics.checkpointSeconds.labelValues("snapshot").observe(snapshotSeconds);
        awaitPending();
        lastSaveAt = trainingSeconds;
        pending = writer.submit(() -> persist(snapshot));
    }

    /** A save in the foreground; returns whether the snapshot's step is durable. */
    public boolean saveNow(Snapshot snapshot, double snapshotSeconds) {
        metrics.checkpointSeconds.labelValues("snapshot").observe(snapshotSeconds);
        awaitPending();
        if (snapshot.state().step() == lastSavedStep) return true;
        return persist(snapshot);
    }

    public void awaitPending() {
        if (pending == null) return;
        try {
            pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            // persist() catches everything it can; an Error from the writer thread still must not pass unnoticed.
            failed(-1, e.getCause());
        }
        pending = null;
    }

    private boolean persist(Snapshot snapshot) {
        try {
            CheckpointStore.Saved saved = store.save(snapshot);
            metrics.checkpointSeconds.labelValues("persist").observe(saved.seconds());
            metrics.checkpointBytes.set(saved.bytes());
            metrics.lastCheckpointStep.set(saved.step());
            for (String w : saved.warnings()) log.accept("checkpoint step " + saved.step() + ": " + w);
            // The listener first, the flags the training thread reads after: whatever that thread decides from them,
            // the progress it reports already says so.
            onSaved.accept(saved);
            lastSavedStep = saved.step();
            lastFailure = null;
            return true;
        } catch (IOException | RuntimeException e) {
            failed(snapshot.state().step(), e);
            return false;
        }
    }

    private void failed(long step, Throwable e) {
        Failure before = lastFailure;
        int consecutive = before == null ? 1 : before.consecutive() + 1;
        String message = "checkpoint at step " + step + " failed: " + SaveFailure.describe(e)
                + "; the previous checkpoint (step " + lastSavedStep + ") is still the newest"
                + (consecutive > 1 ? " (" + consecutive + " failed saves in a row)" : "");
        Failure f = new Failure(step, SaveFailure.cause(e), message, consecutive);
        metrics.checkpointFailures.inc();
        log.accept(message);
        onFailed.accept(f); // before the training thread can see the failure and stop on it (see persist)
        lastFailure = f;
    }

    @Override
    public void close() {
        awaitPending();
        writer.shutdown();
    }
}
