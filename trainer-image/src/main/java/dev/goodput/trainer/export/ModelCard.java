package dev.goodput.trainer.export;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.goodput.api.spec.ModelSpec;

/**
 * model.json: what a reader needs besides the weights to rebuild and feed the network. {@code model} is the
 * TrainingJob's spec.model (the architecture and its sizes), so the trainer's own builder rebuilds it.
 *
 * @param format        {@code goodput-djl/1} (DJL parameters), {@code goodput-safetensors/1} (a bert-classifier) or
 *                      {@code goodput-torchscript/1} (a user's module) or {@code goodput-torchscript-stages/1} (a
 *                      user's module given as stages: stage-0.pt, stage-1.pt, ... beside this file, run in order)
 * @param weights       the weights file: DJL's (Block.saveParameters), safetensors, model.pt; for stages
 *                      {@code stages.sha256}, the stage files' SHA-256 sums in order, as sha256sum writes them
 * @param input         the shape of one example (channels, height, width); for text, 1 x 1 x the sequence length
 * @param normalization per-channel (or per-feature) mean and standard deviation applied to inputs; null for text
 * @param text          for text models: the sequence length, the pad id and the tokenizer file beside this one
 * @param base          for LoRA: the pretrained weights the adapters apply to, by path and SHA-256
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ModelCard(String format, String weights, ModelSpec model, int classes, long step, int[] input,
                        Normalization normalization, Text text, Base base) {
    public static final String DJL = "goodput-djl/1";
    public static final String SAFETENSORS = "goodput-safetensors/1";
    public static final String TORCHSCRIPT = "goodput-torchscript/1";
    public static final String TORCHSCRIPT_STAGES = "goodput-torchscript-stages/1";

    public record Normalization(float[] mean, float[] std) {}

    public record Text(int maxLength, int padId, String tokenizer) {}

    public record Base(String path, String sha256) {}

    public static final String FILE = "model.json";

    /** Writes this card as {@value #FILE} in {@code folder}, indented for people reading it. */
    public void writeTo(java.nio.file.Path folder) throws java.io.IOException {
        new com.fasterxml.jackson.databind.ObjectMapper()
                .enable(com.fasterxml.jackson.databind.SerializationFeature.INDENT_OUTPUT)
                .writeValue(folder.resolve(FILE).toFile(), this);
    }
}
