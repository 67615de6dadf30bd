package dev.goodput.trainer.tune;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalInt;

/**
 * Tuning results shared between jobs: a folder with one file per {@link TuningKey} holding the micro-batch that was
 * chosen. The operator fills it from finished tunings (a ConfigMap mounted into the pod, GOODPUT_TUNING_CACHE), so a
 * second job with the same key starts training without probing.
 */
public final class TuningCache {
    private final Path dir;

    public TuningCache(Path dir) {
        this.dir = dir;
    }

    public static TuningCache fromEnvironment() {
        String v = System.getenv("GOODPUT_TUNING_CACHE");
        return v == null || v.isBlank() ? null : new TuningCache(Path.of(v));
    }

    public OptionalInt lookup(TuningKey key) {
        Path f = dir.resolve(key.text());
        try {
            if (!Files.isRegularFile(f)) return OptionalInt.empty();
            int micro = Integer.parseInt(Files.readString(f).trim());
            return micro > 0 ? OptionalInt.of(micro) : OptionalInt.empty();
        } catch (IOException | NumberFormatException e) {
            return OptionalInt.empty(); // a damaged entry only costs a tuning run
        }
    }

    /** For local runs and tests: the operator writes the ConfigMap instead. */
    public void store(TuningKey key, int micro) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(key.text()), micro + "\n");
    }
}
