package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ai.djl.ndarray.NDManager;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.ModelState;
import dev.goodput.trainer.checkpoint.Snapshot;
import dev.goodput.trainer.checkpoint.TrainingState;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A TorchScript model's checkpoint holds its BatchNorm running statistics with its parameters: written to disk and
 * restored into a model freshly loaded from the user's file, it gives the same eval logits and continues training
 * with the same losses.
 */
class TorchScriptCheckpointTest extends PyTorchManagerTest {
    @TempDir
    Path dir;

    @Test
    void saveThenRestoreGivesIdenticalEvalLogitsAndTrainingContinuesIdentically() throws Exception {
        UserModelRun trained = new UserModelRun(manager);
        for (int s = 0; s < 3; s++) trained.step(s);
        TrainingState state = new TrainingState(TrainingState.VERSION, 3, UserModelRun.SEED, null, Map.of());
        Snapshot snapshot = ModelState.snapshot(trained.model.block().getParameters(), trained.model.buffers(),
                trained.optimizer, state);
        assertThat(snapshot.parameters().keySet()).contains("buffer/bn1.running_mean", "buffer/bn2.num_batches_tracked");
        CheckpointStore store = new CheckpointStore(dir.resolve("job"), 2);
        store.save(snapshot);
        float[] before = trained.evalLogits(16);

        UserModelRun resumed = new UserModelRun(manager);
        assertThat(resumed.evalLogits(16)).isNotEqualTo(before);
        Snapshot loaded = store.loadLatest().orElseThrow().snapshot();
        ModelState.restore(loaded, resumed.model.block().getParameters(), resumed.model.buffers(), resumed.optimizer,
                manager);
        resumed.optimizer.restoreStepCount(trained.optimizer.stepCount());
        assertThat(resumed.evalLogits(16)).isEqualTo(before);
        assertThat(resumed.model.buffers().read().values()).containsExactlyElementsOf(
                trained.model.buffers().read().values());

        // The loop's next steps: the same loss, in train mode again after the evaluation.
        for (int s = 3; s < 5; s++) assertThat(resumed.step(s)).as("step %d", s).isEqualTo(trained.step(s));
        assertThat(resumed.evalLogits(16)).isEqualTo(trained.evalLogits(16));
    }

    @Test
    void aRestoreThatIgnoresTheBuffersIsRefused() throws Exception {
        UserModelRun trained = new UserModelRun(manager);
        trained.step(0);
        Snapshot snapshot = ModelState.snapshot(trained.model.block().getParameters(), trained.model.buffers(),
                trained.optimizer, new TrainingState(TrainingState.VERSION, 1, UserModelRun.SEED, null, Map.of()));
        UserModelRun other = new UserModelRun(manager);
        assertThatThrownBy(() -> ModelState.restore(snapshot, other.model.block().getParameters(), other.optimizer, manager))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("do not match");
    }
}
