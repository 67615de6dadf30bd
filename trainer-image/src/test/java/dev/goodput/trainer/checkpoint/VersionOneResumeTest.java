package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.loop.EvaluationHistory;
import dev.goodput.trainer.loop.LoopPosition;
import dev.goodput.trainer.loop.StoppingRule;
import dev.goodput.trainer.optim.OptimizerSteps;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job checkpointed by the version-1 trainer (one flat state.json) resumes under this one and ends bit-identical to a
 * run that never stopped: the core promise holds across the format change.
 */
class VersionOneResumeTest {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Dropout and accumulation on, so the RNG replay and the optimizer's step count both matter. */
    static String job(int maxSteps) {
        // A constant schedule, so stopping at step 40 of an 80-step plan changes nothing but the budget.
        return TestJobs.yaml("cnn", 3200, "maxSteps: " + maxSteps + "\nbatchSize: 32\nschedule:\n  name: constant\n  warmupSteps: 5")
                .replace("width: 8", "width: 8\n    dropout: 0.2");
    }

    @Test
    void aVersionOneCheckpointResumesExactly(@TempDir Path dir) throws Exception {
        TestJobs.run(job(80), dir.resolve("reference"), null);
        String expected = new JobFolder(dir.resolve("reference").resolve("job")).stateHash(80);

        Path resumed = dir.resolve("resumed");
        TestJobs.run(job(40), resumed, null);
        Path folder = resumed.resolve("job").resolve("step-40");
        rewriteAsVersionOne(folder);
        assertThat(JSON.readTree(folder.resolve(CheckpointStore.STATE).toFile()).get("version").asInt()).isEqualTo(1);

        TrainerRun second = TestJobs.run(job(80), resumed, null);
        assertThat(second.progress().resumedFrom()).isEqualTo(40L);
        assertThat(second.progress().history()).extracting(TrainingState.Evaluation::step).contains(40L, 50L, 80L);
        assertThat(new JobFolder(resumed.resolve("job")).stateHash(80)).as("parameters and optimizer state at step 80")
                .isEqualTo(expected);

        TrainingState end = new CheckpointStore(resumed.resolve("job"), 3).read(resumed.resolve("job").resolve("step-80")).state();
        assertThat(end.version()).isEqualTo(TrainingState.VERSION);
        AttemptLog.State attempts = JSON.treeToValue(end.components().get(AttemptLog.KEY.name()), AttemptLog.State.class);
        assertThat(attempts.attempts()).as("version 1 recorded none; this process is the first known").hasSize(1);
    }

    /**
     * Replaces the folder's state.json by the same state as the version-1 trainer wrote it (its record, its mapper),
     * and its manifest entry, so the folder verifies as that trainer would have left it.
     */
    static void rewriteAsVersionOne(Path folder) throws Exception {
        Path statePath = folder.resolve(CheckpointStore.STATE);
        TrainingState v2 = CheckpointStore.readState(Files.readAllBytes(statePath));
        LoopPosition p = JSON.treeToValue(v2.components().get(LoopPosition.KEY.name()), LoopPosition.class);
        StoppingRule.State s = JSON.treeToValue(v2.components().get(StoppingRule.State.KEY.name()), StoppingRule.State.class);
        EvaluationHistory h = JSON.treeToValue(v2.components().get(EvaluationHistory.KEY.name()), EvaluationHistory.class);
        OptimizerSteps.State o = JSON.treeToValue(v2.components().get(OptimizerSteps.KEY.name()), OptimizerSteps.State.class);
        assertThat(v2.components()).as("an fp32 job: no loss scaler").doesNotContainKey("lossScaler");
        TrainingStateV1 v1 = new TrainingStateV1(1, v2.step(), p.epoch(), p.indexInEpoch(), v2.seed(), p.samples(),
                p.trainingSeconds(), 0.0, s.bestMetric(), s.evalsSinceBest(), s.targetReached(), s.timeToTargetSeconds(),
                s.samplesToTarget(), o.name(), o.steps(), v2.tunedBatch(), null, 0, 0, h.evaluations());
        byte[] bytes = JSON.writeValueAsBytes(v1);
        Files.write(statePath, bytes);

        Path manifestPath = folder.resolve(CheckpointStore.MANIFEST);
        CheckpointManifest m = JSON.readValue(manifestPath.toFile(), CheckpointManifest.class);
        Map<String, CheckpointManifest.FileEntry> files = new LinkedHashMap<>(m.files());
        files.put(CheckpointStore.STATE, new CheckpointManifest.FileEntry(bytes.length,
                HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes))));
        Files.write(manifestPath, JSON.writeValueAsBytes(new CheckpointManifest(m.version(), m.step(), m.createdAt(), files)));
    }
}
