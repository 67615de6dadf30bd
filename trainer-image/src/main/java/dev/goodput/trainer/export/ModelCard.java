package dev.goodput.trainer.export;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.goodput.api.spec.ModelSpec;

/**
 * model.json: what a reader needs besides the weights to rebuild and feed the network. {@code model} is the
 * TrainingJob's spec.model (the architecture and its sizes), so the trainer's own builder rebuilds it.
 *
 * @param format        {@code goodput-djl/1}
 * @param weights       the DJL parameters file (Block.saveParameters)
 * @param input         the shape of one example (channels, height, width); for text, 1 x 1 x the sequence length
 * @param normalization per-channel (or per-feature) mean and standard deviation applied to inputs; null for text
 * @param text          for text models: the sequence length, the pad id and the tokenizer file beside this one
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelCard(String format, String weights, ModelSpec model, int classes, long step, int[] input,
                        Normalization normalization, Text text) {
    public static final String FORMAT = "goodput-djl/1";

    public record Normalization(float[] mean, float[] std) {}

    public record Text(int maxLength, int padId, String tokenizer) {}
}
