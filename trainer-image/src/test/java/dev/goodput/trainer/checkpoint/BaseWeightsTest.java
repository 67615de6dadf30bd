package dev.goodput.trainer.checkpoint;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A checkpoint of only the trainable parameters resumes onto the same base weights, by hash, or not at all. */
class BaseWeightsTest {
    @TempDir
    Path dir;

    @Test
    void theSameBaseResumesAChangedOneIsRefusedNamingBothHashes() throws Exception {
        Path file = Files.writeString(dir.resolve("model.safetensors"), "the pretrained weights");
        BaseWeights.State saved = new BaseWeights(file).save();
        assertThat(saved.sha256()).isEqualTo(FileSha256.of(file)).hasSize(64);

        new BaseWeights(file).restore(saved);

        Files.writeString(file, "other weights");
        String now = FileSha256.of(file);
        assertThatThrownBy(() -> new BaseWeights(file).restore(saved)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(saved.sha256()).hasMessageContaining(now)
                .hasMessageContaining("restore the original weights, or start a new TrainingJob");
    }
}
