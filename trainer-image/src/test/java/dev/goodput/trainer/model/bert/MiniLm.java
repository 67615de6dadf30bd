package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** all-MiniLM-L6-v2 as .ci/text-assets.sh installs it, and the reference fixture made from it by bert_reference.py. */
final class MiniLm {
    /** Relative to the module directory, where Maven runs the tests. */
    static final Path FOLDER = Path.of("../goodput-data/all-minilm-l6-v2");

    private MiniLm() {}

    /** The model folder; fails (never skips) when the assets are not installed. */
    static Path folder() {
        assertThat(FOLDER.resolve("model.safetensors"))
                .as("the MiniLM assets: run .ci/text-assets.sh from the repository root").exists();
        return FOLDER;
    }

    /** The reference fixture: input_ids, attention_mask, last_hidden_state, mean_pooled. */
    static NDList reference(NDManager manager) {
        try (InputStream in = MiniLm.class.getResourceAsStream("minilm-reference.safetensors")) {
            assertThat(in).as("the fixture minilm-reference.safetensors").isNotNull();
            return NDList.decode(manager, in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Token ids (N, L) as the trainer feeds them: float32 (N, 1, 1, L). */
    static NDArray trainerInput(NDArray ids) {
        return ids.toType(DataType.FLOAT32, false).reshape(ids.getShape().get(0), 1, 1, ids.getShape().get(1));
    }
}
