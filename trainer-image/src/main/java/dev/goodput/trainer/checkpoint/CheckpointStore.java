package dev.goodput.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.FilterOutputStream;
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
 * Checkpoints of one job on a filesystem, correct whatever instant the process dies at.
 *
 * <p>A save writes every file into a hidden temporary folder and fsyncs it, writes {@code manifest.json} (each file's
 * size and SHA-256) last, fsyncs the folder, renames it to {@code step-<n>} and fsyncs the parent: from the rename on,
 * the checkpoint exists and verifies. Only then is the {@code latest} pointer replaced (through a temporary file of a
 * name no other save uses) and are old checkpoints discarded; both are bookkeeping, and their failure loses nothing.
 * Folders are discarded by renaming them out of the {@code step-*} names first, so a half-deleted folder is never
 * mistaken for a checkpoint.
 *
 * <p>Resume takes the newest folder that verifies, whatever {@code latest} says: the pointer is for people and tools,
 * never trusted over the folders themselves. Leftovers of interrupted saves (temporary folders and pointers, folders
 * being discarded) are removed when the store is opened and before every save, so none can block a later save.
 */
public final class CheckpointStore {
    static final String PARAMETERS = "parameters.bin";
    static final String OPTIMIZER = "optimizer.bin";
    static final String STATE = "state.json";
    static final String MANIFEST = "manifest.json";
    static final String LATEST = "latest";
    static final String TEMP_FOLDER_PREFIX = ".tmp-step-";
    static final String DISCARD_PREFIX = ".discard-";
    /** Temporary pointers: {@code latest.tmp-<pid>-<nanos>}, and the fixed {@code latest.tmp} of older versions. */
    static final String TEMP_POINTER_PREFIX = LATEST + ".tmp";
    private static final int ARRAYS_MAGIC = 0x47504152; // "GPAR"
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Path dir;
    private final int keep;

    /**
     * A durable checkpoint. {@code warnings} says what bookkeeping after it failed (the pointer not replaced, old
     * checkpoints not removed): the checkpoint itself is good, the next save tries again. {@code parametersSha256} is
     * the SHA-256 of its {@value #PARAMETERS} as its manifest records it: the model's weights, byte for byte, so two
     * runs can be compared by one value (status.lastCheckpoint.parametersSha256 on a cluster).
     */
    public record Saved(long step, Path path, long bytes, double seconds, String parametersSha256, List<String> warnings) {}

    /**
     * A verified checkpoint, the damaged ones skipped on the way to it (newest first), and, when {@code latest} named
     * another folder, what was overridden (else null).
     */
    public record Loaded(Snapshot snapshot, Path path, List<String> skipped, String latestOverridden) {}

    public CheckpointStore(Path jobDir, int keep) {
        this.dir = jobDir;
        this.keep = Math.max(1, keep);
    }

    public Path directory() {
        return dir;
    }

    /** Persists a snapshot; on an I/O error its partial files are removed, the checkpoints before it stay as they were. */
    public Saved save(Snapshot snapshot) throws IOException {
        long started = System.nanoTime();
        Files.createDirectories(dir);
        removeLeftovers();
        long step = snapshot.state().step();
        Path target = dir.resolve(folderName(step));
        Path tmp = dir.resolve(TEMP_FOLDER_PREFIX + step + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        List<String> warnings = new ArrayList<>();
        String parametersSha256;
        try {
            Files.createDirectory(tmp);
            FaultInjection.reach(SavePoint.FOLDER_CREATED);
            Map<String, CheckpointManifest.FileEntry> files = new LinkedHashMap<>();
            files.put(PARAMETERS, write(tmp.resolve(PARAMETERS), out -> writeArrays(out, snapshot.parameters())));
            parametersSha256 = files.get(PARAMETERS).sha256();
            files.put(OPTIMIZER, write(tmp.resolve(OPTIMIZER), out -> writeArrays(out, snapshot.optimizer())));
            files.put(STATE, write(tmp.resolve(STATE), out -> out.write(JSON.writeValueAsBytes(snapshot.state()))));
            CheckpointManifest manifest = new CheckpointManifest(1, step, Instant.now().toString(), files);
            write(tmp.resolve(MANIFEST), out -> out.write(JSON.writeValueAsBytes(manifest)));
            fsyncDirectory(tmp);
            FaultInjection.reach(SavePoint.FOLDER_SYNCED);
            if (Files.exists(target)) {
                // Resume takes the newest folder that verifies and saves come after it, so a folder already at this
                // name is one resume found damaged; a valid one (a second writer?) is never replaced.
                if (verifies(target)) {
                    deleteRecursively(tmp);
                    warnings.add(target.getFileName() + " already exists and verifies: kept, this save's copy dropped");
                    return saved(step, target, started, parametersSha256(target), warnings);
                }
                discard(target);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
            FaultInjection.reach(SavePoint.RENAMED);
            fsyncDirectory(dir);
            FaultInjection.reach(SavePoint.PARENT_SYNCED);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        try {
            pointLatestAt(target.getFileName().toString());
        } catch (IOException e) {
            warnings.add(LATEST + " not updated (" + SaveFailure.describe(e) + "); resume does not depend on it");
        }
        try {
            retain(step, warnings);
        } catch (IOException e) {
            warnings.add("old checkpoints not removed (" + SaveFailure.describe(e) + "); the next save tries again");
        }
        return saved(step, target, started, parametersSha256, warnings);
    }

    private static Saved saved(long step, Path target, long started, String parametersSha256, List<String> warnings)
            throws IOException {
        long bytes = 0;
        try (Stream<Path> s = Files.list(target)) {
            for (Path p : s.toList()) bytes += Files.size(p);
        }
        return new Saved(step, target, bytes, (System.nanoTime() - started) / 1e9, parametersSha256, List.copyOf(warnings));
    }

    /** The SHA-256 of a checkpoint folder's parameters as its manifest records it; null when it has none. */
    public static String parametersSha256(Path folder) {
        try {
            CheckpointManifest m = JSON.readValue(Files.readAllBytes(folder.resolve(MANIFEST)), CheckpointManifest.class);
            CheckpointManifest.FileEntry e = m.files() == null ? null : m.files().get(PARAMETERS);
            return e == null ? null : e.sha256();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * The newest checkpoint that verifies; empty when there is none at all. Removes leftovers of interrupted saves
     * first. When every checkpoint folder is damaged, throws rather than let the run silently start over.
     */
    public Optional<Loaded> loadLatest() throws IOException {
        if (!Files.isDirectory(dir)) return Optional.empty();
        try {
            removeLeftovers();
        } catch (IOException e) {
            // Reading needs none of this; the next save removes them or reports why it cannot.
        }
        String pointer = readPointer();
        List<String> skipped = new ArrayList<>();
        List<Path> folders = stepFolders();
        for (Path p : folders) {
            try {
                Snapshot s = read(p);
                String name = p.getFileName().toString();
                String overridden = pointer == null || pointer.equals(name) ? null
                        : LATEST + " names " + (pointer.isEmpty() ? "nothing" : pointer) + "; " + name
                                + " is the newest checkpoint that verifies";
                return Optional.of(new Loaded(s, p, skipped, overridden));
            } catch (IOException e) {
                skipped.add(p.getFileName() + ": " + e.getMessage());
            }
        }
        if (!folders.isEmpty()) {
            throw new CheckpointCorruptException("no valid checkpoint in " + dir + ": " + String.join("; ", skipped));
        }
        return Optional.empty();
    }

    /** What {@code latest} names, "" when it is unreadable, null when there is none. */
    private String readPointer() {
        Path latest = dir.resolve(LATEST);
        if (!Files.exists(latest)) return null;
        try {
            return Files.readString(latest).trim();
        } catch (IOException e) {
            return "";
        }
    }

    /** Verifies and reads one checkpoint folder. */
    public Snapshot read(Path folder) throws IOException {
        Map<String, byte[]> contents = verifiedContents(folder);
        return new Snapshot(readState(contents.get(STATE)), readArrays(contents.get(PARAMETERS)),
                readArrays(contents.get(OPTIMIZER)));
    }

    /** state.json of either version, as version {@value TrainingState#VERSION}. */
    static TrainingState readState(byte[] json) throws IOException {
        JsonNode tree = JSON.readTree(json);
        int version = tree.path("version").asInt(-1);
        return switch (version) {
            case TrainingState.VERSION -> JSON.treeToValue(tree, TrainingState.class);
            case TrainingStateV1.VERSION -> JSON.treeToValue(tree, TrainingStateV1.class).upgrade(JSON);
            default -> throw new CheckpointCorruptException("state version " + version + " is neither "
                    + TrainingStateV1.VERSION + " nor " + TrainingState.VERSION);
        };
    }

    private boolean verifies(Path folder) {
        try {
            verifiedContents(folder);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private Map<String, byte[]> verifiedContents(Path folder) throws IOException {
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
        String name = folder.getFileName().toString();
        if (!name.equals(folderName(manifest.step()))) {
            throw new CheckpointCorruptException(MANIFEST + " is for step " + manifest.step() + ", not " + name);
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
        return contents;
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

    private static String folderName(long step) {
        return "step-" + step;
    }

    private static long stepOf(Path p) {
        return Long.parseLong(p.getFileName().toString().substring(5));
    }

    private void pointLatestAt(String name) throws IOException {
        Path tmp = dir.resolve(TEMP_POINTER_PREFIX + "-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ch.write(java.nio.ByteBuffer.wrap((name + "\n").getBytes(StandardCharsets.UTF_8)));
                ch.force(true);
            }
            FaultInjection.reach(SavePoint.POINTER_WRITTEN);
            Files.move(tmp, dir.resolve(LATEST), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            FaultInjection.reach(SavePoint.POINTER_REPLACED);
        } catch (IOException | RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        fsyncDirectory(dir);
        FaultInjection.reach(SavePoint.POINTER_SYNCED);
    }

    /**
     * Keeps {@code keep} checkpoints: the one just saved and the newest {@code keep - 1} before it. Folders of later
     * steps exist only when resume found them damaged (it takes the newest that verifies); they are discarded unless
     * they verify now. Runs after every durable save, whether or not earlier saves or pointer updates failed.
     */
    private void retain(long savedStep, List<String> warnings) throws IOException {
        int olderKept = 0;
        for (Path p : stepFolders()) {
            long s = stepOf(p);
            if (s == savedStep) continue;
            if (s > savedStep) {
                if (verifies(p)) {
                    warnings.add(p.getFileName() + " is newer than step " + savedStep + " and verifies: kept");
                } else {
                    discard(p);
                }
                continue;
            }
            if (++olderKept < keep) continue;
            discard(p);
        }
    }

    /** Renames a folder out of the step names, then deletes it: a crash in between leaves only a leftover. */
    private void discard(Path folder) throws IOException {
        Path doomed = dir.resolve(DISCARD_PREFIX + folder.getFileName() + "-" + System.nanoTime());
        Files.move(folder, doomed, StandardCopyOption.ATOMIC_MOVE);
        FaultInjection.reach(SavePoint.DISCARD_RENAMED);
        deleteRecursively(doomed, true);
    }

    /** Removes what interrupted saves left: temporary folders, temporary pointers, folders being discarded. */
    private void removeLeftovers() throws IOException {
        List<Path> leftovers;
        try (Stream<Path> s = Files.list(dir)) {
            leftovers = s.filter(p -> {
                String n = p.getFileName().toString();
                return n.startsWith(TEMP_FOLDER_PREFIX) || n.startsWith(DISCARD_PREFIX) || n.startsWith(TEMP_POINTER_PREFIX);
            }).toList();
        }
        for (Path p : leftovers) {
            deleteRecursively(p);
            FaultInjection.reach(SavePoint.LEFTOVER_REMOVED);
        }
    }

    private interface Body {
        void write(OutputStream out) throws IOException;
    }

    private static CheckpointManifest.FileEntry write(Path file, Body body) throws IOException {
        SavePoint.FileStages stages = SavePoint.of(file.getFileName().toString());
        long halfway = FaultInjection.enabled() ? size(body) / 2 : Long.MAX_VALUE;
        MessageDigest md = sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            FaultInjection.reach(stages.created());
            OutputStream raw = Channels.newOutputStream(ch);
            if (halfway != Long.MAX_VALUE) raw = new PointAfterBytes(raw, halfway, stages.halfWritten());
            DigestOutputStream digest = new DigestOutputStream(new BufferedOutputStream(raw, 1 << 20), md);
            body.write(digest);
            digest.flush();
            FaultInjection.reach(stages.written());
            ch.force(true);
            FaultInjection.reach(stages.synced());
        }
        return new CheckpointManifest.FileEntry(Files.size(file), HexFormat.of().formatHex(md.digest()));
    }

    /** Bytes a body writes (fault injection only: it needs the halfway mark). */
    private static long size(Body body) throws IOException {
        long[] n = {0};
        body.write(new OutputStream() {
            @Override
            public void write(int b) {
                n[0]++;
            }

            @Override
            public void write(byte[] b, int off, int len) {
                n[0] += len;
            }
        });
        return n[0];
    }

    /** Passes bytes through and reaches {@code point} once {@code mark} of them have reached the file. */
    private static final class PointAfterBytes extends FilterOutputStream {
        private final long mark;
        private final SavePoint point;
        private long written;

        PointAfterBytes(OutputStream out, long mark, SavePoint point) {
            super(out);
            this.mark = mark;
            this.point = point;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (written < mark && written + len >= mark) {
                int first = (int) (mark - written);
                out.write(b, off, first);
                written += first;
                FaultInjection.reach(point);
                out.write(b, off + first, len - first);
                written += len - first;
                return;
            }
            out.write(b, off, len);
            written += len;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }
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
        deleteRecursively(p, false);
    }

    private static void deleteRecursively(Path p, boolean discarding) throws IOException {
        if (!Files.exists(p)) return;
        List<Path> all;
        try (Stream<Path> s = Files.walk(p)) {
            all = s.sorted(Comparator.reverseOrder()).toList();
        }
        for (int i = 0; i < all.size(); i++) {
            Files.deleteIfExists(all.get(i));
            if (discarding && i == (all.size() - 1) / 2) FaultInjection.reach(SavePoint.DISCARD_HALF_DELETED);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            deleteRecursively(p);
        } catch (IOException ignored) {
            // Best effort: leftovers are removed before the next save.
        }
    }
}
