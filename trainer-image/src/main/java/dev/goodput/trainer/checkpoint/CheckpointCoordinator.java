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
 * the end persists in the foreground. A failed save is reported and training continues on the previous checkpoint.
 */
public final class CheckpointCoordinator implements AutoCloseable {
    private final CheckpointStore store;
    private final Duration interval;
    private final TrainerMetrics metrics;
    private final Consumer<CheckpointStore.Saved> onSaved;
    private final Consumer<String> log;
    private final ExecutorService writer = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "goodput-checkpoint-writer");
        t.setDaemon(true);
        return t;
    });
    private Future<?> pending;
    private double lastSaveAt;
    private long lastSavedStep = -1;
    private volatile String lastError;

    public CheckpointCoordinator(CheckpointStore store, Duration interval, TrainerMetrics metrics,
                                 Consumer<CheckpointStore.Saved> onSaved, Consumer<String> log) {
        this.store = store;
        this.interval = interval;
        this.metrics = metrics;
        this.onSaved = onSaved;
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

    public boolean periodicDue(double trainingSeconds) {
        return trainingSeconds - lastSaveAt >= interval.toMillis() / 1000.0;
    }

    public long lastSavedStep() {
        return lastSavedStep;
    }

    public String lastError() {
        return lastError;
    }

    /** Phase two in the background. If the previous save is still being written, wait for it: one in flight at most. */
    public void saveInBackground(Snapshot snapshot, double trainingSeconds, double snapshotSeconds) {
        metrics.checkpointSeconds.labelValues("snapshot").observe(snapshotSeconds);
        awaitPending();
        lastSaveAt = trainingSeconds;
        pending = writer.submit(() -> persist(snapshot));
    }

    /** A save in the foreground; returns whether it became durable. */
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
            lastError = String.valueOf(e.getCause());
        }
        pending = null;
    }

    private boolean persist(Snapshot snapshot) {
        try {
            CheckpointStore.Saved saved = store.save(snapshot);
            metrics.checkpointSeconds.labelValues("persist").observe(saved.seconds());
            metrics.checkpointBytes.set(saved.bytes());
            metrics.lastCheckpointStep.set(saved.step());
            lastSavedStep = saved.step();
            lastError = null;
            onSaved.accept(saved);
            return true;
        } catch (IOException | RuntimeException e) {
            lastError = "checkpoint at step " + snapshot.state().step() + " failed: " + e
                    + "; the previous checkpoint (step " + lastSavedStep + ") is still the latest";
            log.accept(lastError);
            return false;
        }
    }

    @Override
    public void close() {
        awaitPending();
        writer.shutdown();
    }
}
