package dev.goodput.trainer.export;

import dev.goodput.api.status.ModelOutput;
import dev.goodput.trainer.checkpoint.FileSha256;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Writes the trained model to {@code <job folder>/model/} when training ends: into a fresh folder beside it first,
 * then renamed into place, so a reader never sees half a model and a model from an earlier run of the job is replaced
 * whole.
 */
public final class ModelExport {
    public static final String FOLDER = "model";

    private ModelExport() {}

    public static ModelOutput write(Path jobFolder, ModelWriter writer, long step) throws IOException {
        Files.createDirectories(jobFolder);
        removeLeftovers(jobFolder);
        Path target = jobFolder.resolve(FOLDER);
        Path fresh = Files.createTempDirectory(jobFolder, FOLDER + ".new-");
        try {
            writer.writeTo(fresh);
            Path old = null;
            if (Files.exists(target)) {
                old = jobFolder.resolve(FOLDER + ".old-" + System.nanoTime());
                Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            }
            Files.move(fresh, target, StandardCopyOption.ATOMIC_MOVE);
            if (old != null) delete(old);
        } catch (IOException | RuntimeException e) {
            delete(fresh);
            throw e;
        }
        ModelOutput out = new ModelOutput();
        out.path = target.toString();
        out.format = writer.format();
        out.step = step;
        try (Stream<Path> files = Files.walk(target)) {
            out.bytes = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        out.sha256 = FileSha256.of(target.resolve(writer.weightsFile()));
        return out;
    }

    /** What an export a crash interrupted left beside the model. */
    private static void removeLeftovers(Path jobFolder) throws IOException {
        try (Stream<Path> s = Files.list(jobFolder)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(FOLDER + ".new-")
                    || p.getFileName().toString().startsWith(FOLDER + ".old-")).toList()) {
                delete(p);
            }
        }
    }

    private static void delete(Path folder) throws IOException {
        if (!Files.exists(folder)) return;
        try (Stream<Path> s = Files.walk(folder)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }
}
