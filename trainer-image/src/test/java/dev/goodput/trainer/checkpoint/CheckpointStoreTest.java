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
        TrainingState state = new TrainingState(TrainingState.VERSION, step, 42, null,
                Map.of("position", new com.fasterxml.jackson.databind.ObjectMapper().valueToTree(
                        Map.of("step", step, "epoch", 1, "indexInEpoch", 64))));
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
        assertThat(l.skipped()).isEmpty();
        assertThat(l.latestOverridden()).isEqualTo("latest names step-99; step-20 is the newest checkpoint that verifies");
    }

    @Test
    void resumeTakesTheNewestValidFolderEvenWhenLatestNamesAnOlderOne() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        s.save(snapshot(20, 100));
        // What a kill between the rename of step-20 and the pointer's replacement leaves.
        Files.writeString(dir.resolve("job/latest"), "step-10\n");
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(20);
        assertThat(l.latestOverridden()).contains("latest names step-10").contains("step-20");
    }

    @Test
    void leftoversOfInterruptedSavesNeverBlockASaveAndAreRemoved() throws IOException {
        CheckpointStore s = store(2);
        s.save(snapshot(10, 100));
        Path job = dir.resolve("job");
        // A temporary pointer of the fixed name older versions used (the cause of every later save failing), one of
        // today's names, a half-written temporary folder and a folder half-way through being discarded.
        Files.writeString(job.resolve("latest.tmp"), "step-1");
        Files.writeString(job.resolve("latest.tmp-123-456"), "step-1");
        Files.write(Files.createDirectories(job.resolve(".tmp-step-20-123-456")).resolve("parameters.bin"), new byte[] {1});
        Files.write(Files.createDirectories(job.resolve(".discard-step-5-789")).resolve("state.json"), new byte[] {1});
        CheckpointStore.Saved saved = s.save(snapshot(20, 100));
        assertThat(saved.warnings()).isEmpty();
        assertThat(Files.readString(job.resolve("latest")).trim()).isEqualTo("step-20");
        try (var files = Files.list(job)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("step-10", "step-20", "latest");
        }
    }

    @Test
    void openingTheStoreRemovesLeftoversToo() throws IOException {
        CheckpointStore s = store(2);
        s.save(snapshot(10, 100));
        Path tmp = Files.createDirectories(dir.resolve("job/.tmp-step-20-1-2"));
        assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(10);
        assertThat(tmp).doesNotExist();
    }

    @Test
    void retentionCatchesUpAfterSavesWhoseBookkeepingFailed() throws IOException {
        // Folders that earlier saves left beyond keep (in older versions: every save after a failed pointer update).
        CheckpointStore many = store(100);
        for (long step = 1; step <= 8; step++) many.save(snapshot(step, 10));
        store(2).save(snapshot(9, 10));
        assertThat(store(2).stepFolders()).extracting(p -> p.getFileName().toString()).containsExactly("step-9", "step-8");
    }

    @Test
    void aDamagedNewerFolderIsDiscardedAndAValidOneKept() throws IOException {
        CheckpointStore s = store(2);
        for (long step : new long[] {10, 20, 30, 40}) store(10).save(snapshot(step, 100));
        Files.delete(dir.resolve("job/step-40/manifest.json")); // damaged: resume skips it
        Files.delete(dir.resolve("job/step-30/manifest.json"));
        assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(20);
        CheckpointStore.Saved saved = s.save(snapshot(21, 100));
        assertThat(saved.warnings()).isEmpty();
        assertThat(s.stepFolders()).extracting(p -> p.getFileName().toString()).containsExactly("step-21", "step-20");

        // A newer folder that verifies (another writer) is never deleted: it is kept and said so.
        store(10).save(snapshot(50, 100));
        CheckpointStore.Saved again = s.save(snapshot(22, 100));
        assertThat(again.warnings()).singleElement().asString().contains("step-50 is newer than step 22 and verifies: kept");
        assertThat(s.stepFolders()).extracting(p -> p.getFileName().toString()).containsExactly("step-50", "step-22", "step-21");
    }

    @Test
    void aDamagedFolderAtTheTargetNameIsReplacedAndAValidOneKept() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        s.save(snapshot(20, 100));
        Path params = dir.resolve("job/step-20/parameters.bin");
        Files.write(params, new byte[] {0});
        CheckpointStore.Saved replaced = s.save(snapshot(20, 300));
        assertThat(replaced.warnings()).isEmpty();
        assertThat(s.read(dir.resolve("job/step-20")).parameters().get("conv_weight")).hasSize(300);

        CheckpointStore.Saved kept = s.save(snapshot(20, 500));
        assertThat(kept.warnings()).singleElement().asString().contains("already exists and verifies: kept");
        assertThat(s.read(dir.resolve("job/step-20")).parameters().get("conv_weight")).hasSize(300);
        try (var files = Files.list(dir.resolve("job"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("step-10", "step-20", "latest");
        }
    }

    @Test
    void aPointerThatCannotBeReplacedIsAWarningNotAFailedSave() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        Path latest = dir.resolve("job/latest");
        Files.delete(latest);
        Files.writeString(Files.createDirectories(latest).resolve("blocker"), "x"); // a non-empty folder cannot be replaced
        CheckpointStore.Saved saved = s.save(snapshot(20, 100));
        assertThat(saved.warnings()).singleElement().asString().startsWith("latest not updated");
        assertThat(s.loadLatest().orElseThrow().snapshot().state().step()).isEqualTo(20);
        try (var files = Files.list(dir.resolve("job"))) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("step-10", "step-20", "latest");
        }
    }

    @Test
    void aFolderWhoseManifestNamesAnotherStepIsNotTrusted() throws IOException {
        CheckpointStore s = store(3);
        s.save(snapshot(10, 100));
        s.save(snapshot(20, 100));
        Files.move(dir.resolve("job/step-20"), dir.resolve("job/step-30"));
        CheckpointStore.Loaded l = s.loadLatest().orElseThrow();
        assertThat(l.snapshot().state().step()).isEqualTo(10);
        assertThat(l.skipped()).singleElement().asString().contains("manifest.json is for step 20, not step-30");
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
