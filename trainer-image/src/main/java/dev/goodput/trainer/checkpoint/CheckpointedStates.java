package dev.goodput.trainer.checkpoint;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The run's {@link CheckpointedState} components by key: a snapshot collects every one's state, a resume restores each
 * by its key.
 *
 * <p>On resume, a component the run has and the checkpoint lacks is an error (the run could not continue exactly),
 * unless the component is {@linkplain CheckpointedState#optional() optional}; a state in the checkpoint that no
 * component of this run claims (the loss scale of an fp16 run resumed in fp32) is not restored and is named in the
 * result, for the log: it cannot change this run, and refusing it would refuse a precision change the job allows.
 */
public final class CheckpointedStates {
    // Reads a state strictly: a field the record lacks, or one it has that the JSON does not, is an error, never a
    // silent default (a zero step count would restart AdamW's bias correction).
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_MISSING_CREATOR_PROPERTIES);

    private final Map<String, CheckpointedState<?>> components = new LinkedHashMap<>();

    /** Adds a component; keys are unique. */
    public CheckpointedStates register(CheckpointedState<?> component) {
        if (components.putIfAbsent(component.key().name(), component) != null) {
            throw new IllegalArgumentException("two checkpointed components with the key " + component.key().name());
        }
        return this;
    }

    /** Every component's state now, by key in registration order: on the training thread, between steps. */
    public Map<String, JsonNode> collect() {
        Map<String, JsonNode> states = new LinkedHashMap<>();
        components.forEach((key, c) -> states.put(key, JSON.valueToTree(c.save())));
        return states;
    }

    /**
     * Restores every component from {@code saved}; returns the keys of saved states no component claims.
     *
     * @throws CheckpointStateException when a required component is missing or its state does not read
     */
    public List<String> restore(Map<String, JsonNode> saved) {
        for (Map.Entry<String, CheckpointedState<?>> e : components.entrySet()) {
            JsonNode node = saved.get(e.getKey());
            if (node == null || node.isNull()) {
                if (e.getValue().optional()) continue;
                throw new CheckpointStateException("the checkpoint has no state for " + e.getKey() + " (it has "
                        + String.join(", ", saved.keySet()) + "): this run cannot continue it exactly");
            }
            restore(e.getValue(), node);
        }
        List<String> unclaimed = new ArrayList<>();
        for (String key : saved.keySet()) if (!components.containsKey(key)) unclaimed.add(key);
        return unclaimed;
    }

    private static <S> void restore(CheckpointedState<S> c, JsonNode node) {
        S state;
        try {
            state = JSON.treeToValue(node, c.key().type());
        } catch (JsonProcessingException e) {
            throw new CheckpointStateException("the checkpoint's state for " + c.key().name() + " does not read as "
                    + c.key().type().getSimpleName() + ": " + e.getOriginalMessage(), e);
        }
        c.restore(state);
    }

    /** A checkpoint whose component states do not fit this run. */
    public static final class CheckpointStateException extends IllegalStateException {
        CheckpointStateException(String message) {
            super(message);
        }

        CheckpointStateException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
