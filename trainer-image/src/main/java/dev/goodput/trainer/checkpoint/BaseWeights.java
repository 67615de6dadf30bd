package dev.goodput.trainer.checkpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The file a checkpoint's frozen parameters come from (see {@link ModelArrays}), by path and SHA-256. A checkpoint
 * that holds only the trainable parameters resumes onto the same base or not at all: a file whose hash differs is
 * refused on resume, naming both hashes, instead of silently combining trained adapters with other weights.
 */
public final class BaseWeights implements CheckpointedState<BaseWeights.State> {
    public static final Key<State> KEY = new Key<>("baseWeights", State.class);

    public record State(String file, String sha256) {}

    private final Path file;
    private String sha256;

    public BaseWeights(Path file) {
        this.file = file;
    }

    @Override
    public Key<State> key() {
        return KEY;
    }

    @Override
    public State save() {
        return new State(file.toString(), sha256());
    }

    @Override
    public void restore(State saved) {
        if (!saved.sha256().equals(sha256())) {
            throw new IllegalStateException("the checkpoint holds only the trainable parameters, trained on base weights "
                    + saved.file() + " with SHA-256 " + saved.sha256() + ", but " + file + " now has SHA-256 " + sha256()
                    + ": restore the original weights, or start a new TrainingJob");
        }
    }

    /** Hashed once per run (MiniLM's 90 MB take about half a second). */
    private synchronized String sha256() {
        if (sha256 == null) {
            try {
                sha256 = FileSha256.of(file);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return sha256;
    }
}
