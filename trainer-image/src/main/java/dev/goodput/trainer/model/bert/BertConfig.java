package dev.goodput.trainer.model.bert;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

/**
 * The shape and regularisation of a BERT encoder, as a Hugging Face {@code config.json} states them. Only what the
 * encoder in this package computes is accepted: a config it would silently compute differently (another model type,
 * another activation, relative positions) is refused when read, not discovered as wrong outputs later.
 */
public record BertConfig(int vocabSize, int hiddenSize, int layers, int attentionHeads, int intermediateSize,
                         int maxPositions, int typeVocabSize, float layerNormEps, float hiddenDropout,
                         float attentionDropout, int padTokenId, float initializerRange) {

    public BertConfig {
        if (hiddenSize % attentionHeads != 0) {
            throw new IllegalArgumentException("BERT config: hidden_size " + hiddenSize
                    + " is not a multiple of num_attention_heads " + attentionHeads);
        }
        if (padTokenId < 0 || padTokenId >= vocabSize) {
            throw new IllegalArgumentException("BERT config: pad_token_id " + padTokenId + " is not in the vocabulary");
        }
    }

    public int headSize() {
        return hiddenSize / attentionHeads;
    }

    /** Reads {@code config.json}; fields BERT's own defaults cover may be absent, the shape fields may not. */
    public static BertConfig read(Path configJson) {
        JsonNode c;
        try {
            c = new ObjectMapper().readTree(configJson.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the BERT config " + configJson, e);
        }
        String where = configJson.toString();
        String modelType = text(c, "model_type", where);
        if (!modelType.equals("bert")) {
            // RoBERTa offsets positions by the pad id, DistilBERT names and arranges its layers differently: the
            // weights would load by the wrong rules or not at all.
            throw new IllegalArgumentException(where + ": model_type " + modelType + " is not supported; only bert");
        }
        String act = c.path("hidden_act").asText("gelu");
        if (!act.equals("gelu")) {
            // "gelu_new" and friends are the tanh approximation; the encoder computes the exact erf form.
            throw new IllegalArgumentException(where + ": hidden_act " + act + " is not supported; only gelu (erf form)");
        }
        String positions = c.path("position_embedding_type").asText("absolute");
        if (!positions.equals("absolute")) {
            throw new IllegalArgumentException(where + ": position_embedding_type " + positions
                    + " is not supported; only absolute");
        }
        return new BertConfig(integer(c, "vocab_size", where), integer(c, "hidden_size", where),
                integer(c, "num_hidden_layers", where), integer(c, "num_attention_heads", where),
                integer(c, "intermediate_size", where), integer(c, "max_position_embeddings", where),
                c.path("type_vocab_size").asInt(2), (float) c.path("layer_norm_eps").asDouble(1e-12),
                (float) c.path("hidden_dropout_prob").asDouble(0.1),
                (float) c.path("attention_probs_dropout_prob").asDouble(0.1), c.path("pad_token_id").asInt(0),
                (float) c.path("initializer_range").asDouble(0.02));
    }

    private static int integer(JsonNode c, String field, String where) {
        JsonNode n = c.get(field);
        if (n == null || !n.canConvertToInt()) throw new IllegalArgumentException(where + ": " + field + " is missing");
        return n.asInt();
    }

    private static String text(JsonNode c, String field, String where) {
        JsonNode n = c.get(field);
        if (n == null || !n.isTextual()) throw new IllegalArgumentException(where + ": " + field + " is missing");
        return n.asText();
    }
}
