package dev.goodput.trainer.checkpoint;

import com.fasterxml.jackson.databind.JsonNode;
import dev.goodput.api.status.TunedBatch;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * state.json, version 2: everything besides arrays that a resumed run needs to continue exactly. The components'
 * states ({@link CheckpointedState}) are kept by key, opaque here; only what is needed before the components exist
 * is a field of its own.
 *
 * @param version    {@link #VERSION}; version 1 (one flat record) is read by {@link TrainingStateV1}
 * @param step       the optimizer step the checkpoint holds (its folder is {@code step-<n>})
 * @param seed       what the data order and the RNGs derive from, for people comparing checkpoints
 * @param tunedBatch the batch the run chose: read before the components are built, since they are built for it
 * @param components every component's state by its key
 */
public record TrainingState(int version, long step, long seed, TunedBatch tunedBatch, Map<String, JsonNode> components) {

    public static final int VERSION = 2;

    public TrainingState {
        // In the order collected, so state.json lists them as the run registered them.
        components = Collections.unmodifiableMap(new LinkedHashMap<>(components));
    }

    /** One evaluation on the test split. */
    public record Evaluation(long step, int epoch, long samples, double trainingSeconds, double accuracy, double loss) {}
}
