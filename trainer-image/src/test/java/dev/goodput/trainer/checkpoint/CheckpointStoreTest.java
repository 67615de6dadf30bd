package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The atomic save protocol and the fallback on damaged checkpoints, on a real filesystem. */
class CheckpointStoreTest {
    @TempDir
    Path dir;

    static Snapshot snapshot(long step, int bytes) {
        Map<String, byte[]> params = new LinkedHashMap<>();
        byte[] w = new byte[bytes];
        for (int i = 0; i < bytes; i++) w[i] = (byte) (i * 31 + step);
        params.put("conv_weight", w);
        params.put("bn_runningMean", new byte[] {1, 2, 3});
        Map<String, byte[]> opt = Map.of("m/conv_weight", new byte[] {(byte) step});
        TrainingState state = new TrainingState(TrainingState.VERSION, step, 1, 64, 42, step * 64, step * 0.1, 0, 0.5, 0,
                false, null, null, "adamw", step, null, null, 0, 0, List.of());
        return new Snapshot(state, params, opt);
    }

    CheckpointStore store(int keep) {
        return new CheckpointStore(dir.resolve("job"), keep);
    }

    @Test
    void savesAtomicallyAndLoadsTheLatest() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 1000));
        CheckpointStore.Saved saved = s.save(snapshot(20, 1000));
        assertThat(Files.readString(dir.resolve("job/latest")).trim()).isEqualTo("step-20");
        assertThat(saved.path()).isEqualTo(dir.resolve("job/step-20"));
        assertThat(saved.bytes()).isGreaterThan(1000);
        try (var files = Files.list(dir.resolve("job/step-20"))) {
            assertThat(files.map(p -> p.getFileName().toString()))
                    .containsExactlyInAnyOrder("parameters.bin", "optimizer.bin", "state.json", "manifest.json");
        }
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(20);
        assertThat(l.snapshot().parameters().get("conv_weight")).isEqualTo(snapshot(20, 1000).parameters().get("conv_weight"));
        assertThat(l.snapshot().optimizer().get("m/conv_weight")).containsExactly(20);
        assertThat(l.skipped()).isEmpty();
    }

    @Test
    void keepsOnlyTheNewestK() throws IOException {
        CheckpointStore s = store(2);
        for (long step : new long[] {1, 2, 3, 4}) s.save(snapshot(step, 10));
        assertThat(s.stepFolders()).extracting(p -> p.getFileName().toString()).containsExactly("step-4", "step-3");
    }

    @Test
    void truncatedFileFallsBackToThePreviousCheckpoint() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 5000));
        s.save(snapshot(20, 5000));
        Path params = dir.resolve("job/step-20/parameters.bin");
        byte[] b = Files.readAllBytes(params);
        Files.write(params, java.util.Arrays.copyOf(b, b.length / 2));
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(10);
        assertThat(l.skipped()).singleElement().asString().contains("step-20").contains("truncated");
    }

    @Test
    void flippedByteFallsBackToThePreviousCheckpoint() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 5000));
        s.save(snapshot(20, 5000));
        Path params = dir.resolve("job/step-20/parameters.bin");
        byte[] b = Files.readAllBytes(params);
        b[b.length / 2] ^= 0x01;
        Files.write(params, b);
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(10);
        assertThat(l.skipped()).singleElement().asString().contains("checksum mismatch");
    }

    @Test
    void missingManifestFallsBackToThePreviousCheckpoint() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        s.save(snapshot(20, 100));
        Files.delete(dir.resolve("job/step-20/manifest.json"));
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(10);
        assertThat(l.skipped()).singleElement().asString().contains("missing manifest.json");
    }

    @Test
    void latestPointingNowhereUsesTheNewestValidFolder() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        s.save(snapshot(20, 100));
        Files.writeString(dir.resolve("job/latest"), "step-99\n");
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(20);
        assertThat(l.skipped()).singleElement().asString().contains("step-99");
    }

    @Test
    void saveInterruptedHalfWayLeavesThePreviousCheckpointAndIsCleanedUp() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        // What a SIGKILL during a save leaves: a temporary folder with some files and no manifest.
        Path tmp = Files.createDirectories(dir.resolve("job/.tmp-step-20-123-456"));
        Files.write(tmp.resolve("parameters.bin"), new byte[] {1, 2, 3});
        assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(10);
        s.save(snapshot(30, 100));
        assertThat(tmp).doesNotExist();
        assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(30);
    }

    @Test
    void everyCheckpointDamagedIsAnErrorNotAFreshStart() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        Files.delete(dir.resolve("job/step-10/state.json"));
        assertThatThrownBy(s::loadLatest).isInstanceOf(CheckpointCorruptException.class)
                .hasMessageContaining("no valid checkpoint").hasMessageContaining("missing state.json");
    }

    @Test
    void noCheckpointsAtAllIsAFreshStart() throws IOException {
        assertThat(store(3).loadLatest()).isEmpty();
    }

    @Test
    void diskFullDuringASaveKeepsThePreviousCheckpointUsable() throws IOException {
        try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix().toBuilder().setMaxSize(64 * 1024).setBlockSize(1024).build())) {
            CheckpointStore s = new CheckpointStore(fs.getPath("/ckpt/job"), 3);
            s.save(snapshot(10, 8 * 1024));
            assertThatThrownBy(() -> s.save(snapshot(20, 200 * 1024))).isInstanceOf(IOException.class);
            try (var files = Files.list(fs.getPath("/ckpt/job"))) {
                assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("step-10", "latest");
            }
            assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(10);
        }
    }
}
