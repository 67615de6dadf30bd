package dev.goodput.trainer.checkpoint;

import dev.goodput.trainer.export.ModelExport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * A job's checkpoint folder as a test inspects it after a trainer process died: read-only (no leftover is removed, so
 * the next run meets the folder exactly as the dead one left it).
 */
record JobFolder(Path dir) {
    /** The step of the newest folder that verifies, or -1. */
    long newestValidStep() throws IOException {
        CheckpointStore store = new CheckpointStore(dir, Integer.MAX_VALUE);
        for (Path p : store.stepFolders()) {
            try {
                return store.read(p).state().step();
            } catch (IOException e) {
                // damaged or unfinished: look further back
            }
        }
        return -1;
    }

    int stepFolderCount() throws IOException {
        return new CheckpointStore(dir, Integer.MAX_VALUE).stepFolders().size();
    }

    /** Names in the folder that are neither checkpoints nor the pointer nor the run report (page and data). */
    List<String> leftovers() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.matches("step-[0-9]+") && !n.equals("latest") && !n.equals("report.html") && !n.equals("report-data.json")
                            && !n.equals(ModelExport.FOLDER)) // the trained model a finished run leaves
                    .sorted().toList();
        }
    }

    /** SHA-256 of the parameters and of the optimizer state of {@code step}: what must be byte-identical. */
    String stateHash(long step) throws IOException {
        Path folder = dir.resolve("step-" + step);
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(Files.readAllBytes(folder.resolve(CheckpointStore.PARAMETERS)));
            String params = HexFormat.of().formatHex(md.digest());
            md.update(Files.readAllBytes(folder.resolve(CheckpointStore.OPTIMIZER)));
            return params + "/" + HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
