package dev.goodput.trainer.checkpoint;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Checkpoints of one job on a filesystem (design.md §5). A save writes a hidden temporary folder, fsyncs every file,
 * writes manifest.json with each file's SHA-256 last, renames the folder into place, then atomically replaces
 * {@code latest}. A crash at any point leaves the previous checkpoint as the newest valid one. Loading verifies the
 * manifest and falls back to older checkpoints when the newest is damaged.
 */
public final class CheckpointStore {
    static final String PARAMETERS = "parameters.bin";
    static final String OPTIMIZER = "optimizer.bin";
    static final String STATE = "state.json";
    static final String MANIFEST = "manifest.json";
    static final String LATEST = "latest";
    private static final int ARRAYS_MAGIC = 0x47504152; // "GPAR"
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final int keep;

    public record Saved(long step, Path path, long bytes, double seconds) {}

    /** A verified checkpoint and the damaged ones skipped on the way to it (newest first). */
    public record Loaded(Snapshot snapshot, Path path, List<String> skipped) {}

    public CheckpointStore(Path jobDir, int keep) {
        this.dir = jobDir;
        this.keep = Math.max(1, keep);
    }

    public Path directory() {
        return dir;
    }

    /** Persists a snapshot with the atomic protocol; on any I/O error the partial folder is removed and rethrown. */
    public Saved save(Snapshot snapshot) throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(dir);
        long step = snapshot.state().step();
        Path tmp = dir.resolve(".tmp-step-" + step + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Path target = dir.resolve("step-" + step);
        try {
            Files.createDirectory(tmp);
            Map<String, CheckpointManifest.FileEntry> files = new LinkedHashMap<>();
            files.put(PARAMETERS, write(tmp.resolve(PARAMETERS), out -> writeArrays(out, snapshot.parameters())));
            files.put(OPTIMIZER, write(tmp.resolve(OPTIMIZER), out -> writeArrays(out, snapshot.optimizer())));
            files.put(STATE, write(tmp.resolve(STATE), out -> out.write(JSON.writeValueAsBytes(snapshot.state()))));
            CheckpointManifest manifest = new CheckpointManifest(1, step, Instant.now().toString(), files);
            write(tmp.resolve(MANIFEST), out -> out.write(JSON.writeValueAsBytes(manifest)));
            fsyncDirectory(tmp);
            if (Files.exists(target)) deleteRecursively(target); // a re-save of the same step after a resume
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            fsyncDirectory(dir);
            pointLatestAt(target.getFileName().toString());
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        prune();
        long bytes = 0;
        try (Stream<Path> s = Files.list(target)) {
            for (Path p : s.toList()) bytes += Files.size(p);
        }
        return new Saved(step, target, bytes, (System.nanoTime() - started) / 1e9);
    }

    /** The newest checkpoint that verifies, starting from {@code latest}; empty when there is none at all. */
    public Optional<Loaded> loadLatest() throws IOException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        List<Path> candidates = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        Path latestFile = dir.resolve(LATEST);
        if (Files.exists(latestFile)) {
            String name = Files.readString(latestFile).trim();
            Path p = dir.resolve(name);
            if (name.startsWith("step-") && Files.isDirectory(p)) candidates.add(p);
            else skipped.add(LATEST + " points to '" + name + "', which does not exist");
        }
        for (Path p : stepFolders()) {
            if (!candidates.contains(p)) candidates.add(p);
        }
        for (Path p : candidates) {
            try {
                return Optional.of(new Loaded(read(p), p, skipped));
            } catch (IOException e) {
                skipped.add(p.getFileName() + ": " + e.getMessage());
            }
        }
        if (!skipped.isEmpty() && candidates.size() > 0) {
            throw new CheckpointCorruptException("no valid checkpoint in " + dir + ": " + String.join("; ", skipped));
        }
        return Optional.empty();
    }

    /** Verifies and reads one checkpoint folder. */
    public Snapshot read(Path folder) throws IOException {
        CheckpointManifest manifest;
        try {
            manifest = JSON.readValue(Files.readAllBytes(folder.resolve(MANIFEST)), CheckpointManifest.class);
        } catch (NoSuchFileException e) {
            throw new CheckpointCorruptException("missing " + MANIFEST + " (save did not finish)");
        } catch (IOException e) {
            throw new CheckpointCorruptException("unreadable " + MANIFEST + ": " + e.getMessage());
        }
        for (String required : List.of(PARAMETERS, OPTIMIZER, STATE)) {
            if (manifest.files() == null || !manifest.files().containsKey(required)) {
                throw new CheckpointCorruptException(MANIFEST + " does not list " + required);
            }
        }
        Map<String, byte[]> contents = new LinkedHashMap<>();
        for (Map.Entry<String, CheckpointManifest.FileEntry> e : manifest.files().entrySet()) {
            Path f = folder.resolve(e.getKey());
            if (!Files.isRegularFile(f)) throw new CheckpointCorruptException("missing " + e.getKey());
            byte[] data = Files.readAllBytes(f);
            if (data.length != e.getValue().bytes()) {
                throw new CheckpointCorruptException(e.getKey() + " has " + data.length + " bytes, manifest says " + e.getValue().bytes() + " (truncated?)");
            }
            String sha = HexFormat.of().formatHex(sha256().digest(data));
            if (!sha.equals(e.getValue().sha256())) {
                throw new CheckpointCorruptException(e.getKey() + " checksum mismatch (damaged)");
            }
            contents.put(e.getKey(), data);
        }
        TrainingState state = JSON.readValue(contents.get(STATE), TrainingState.class);
        if (state.version() != TrainingState.VERSION) {
            throw new CheckpointCorruptException("state version " + state.version() + " is not " + TrainingState.VERSION);
        }
        return new Snapshot(state, readArrays(contents.get(PARAMETERS)), readArrays(contents.get(OPTIMIZER)));
    }

    /** Step folders, newest first. */
    public List<Path> stepFolders() throws IOException {
        if (!Files.isDirectory(dir)) return List.of();
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("step-[0-9]+") && Files.isDirectory(p))
                    .sorted(Comparator.comparingLong(CheckpointStore::stepOf).reversed())
                    .toList();
        }
    }

    private static long stepOf(Path p) {
        return Long.parseLong(p.getFileName().toString().substring(5));
    }

    private void pointLatestAt(String name) throws IOException {
        Path tmp = dir.resolve(LATEST + ".tmp");
        write(tmp, out -> out.write((name + "\n").getBytes(StandardCharsets.UTF_8)));
        Files.move(tmp, dir.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        fsyncDirectory(dir);
    }

    /** Keeps the newest {@code keep} checkpoints and removes leftovers of interrupted saves. */
    private void prune() throws IOException {
        List<Path> steps = stepFolders();
        for (int i = keep; i < steps.size(); i++) deleteRecursively(steps.get(i));
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith(".tmp-step-")).toList()) {
                deleteQuietly(p);
            }
        }
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static CheckpointManifest.FileEntry write(Path file, Body body) throws IOException {
        MessageDigest md = sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            OutputStream raw = Channels.newOutputStream(ch);
            DigestOutputStream digest = new DigestOutputStream(new BufferedOutputStream(raw, 1 << 20), md);
            body.write(digest);
            digest.flush();
            ch.force(true);
        }
        return new CheckpointManifest.FileEntry(Files.size(file), HexFormat.of().formatHex(md.digest()));
    }

    private static void writeArrays(OutputStream os, Map<String, byte[]> arrays) throws IOException {
        DataOutputStream out = new DataOutputStream(os);
        out.writeInt(ARRAYS_MAGIC);
        out.writeInt(arrays.size());
        for (Map.Entry<String, byte[]> e : arrays.entrySet()) {
            out.writeUTF(e.getKey());
            out.writeInt(e.getValue().length);
            out.write(e.getValue());
        }
        out.flush();
    }

    private static Map<String, byte[]> readArrays(byte[] data) throws IOException {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(data))) {
            if (in.readInt() != ARRAYS_MAGIC) throw new CheckpointCorruptException("not an array file");
            int n = in.readInt();
            Map<String, byte[]> out = new LinkedHashMap<>();
            for (int i = 0; i < n; i++) {
                String name = in.readUTF();
                byte[] b = new byte[in.readInt()];
                in.readFully(b);
                out.put(name, b);
            }
            return out;
        }
    }

    private static void fsyncDirectory(Path d) {
        try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some filesystems refuse fsync on directories; the rename is still atomic there.
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(q);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteRecursively(p);
        } catch (IOException ignored) {
            // Best effort: prune() removes leftovers on the next save.
        }
    }

}
