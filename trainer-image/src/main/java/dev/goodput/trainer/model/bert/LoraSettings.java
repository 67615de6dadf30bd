package dev.goodput.trainer.model.bert;

import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Low-rank adapters (Hu et al. 2021): each targeted linear layer computes W x + b + (alpha / rank) B A dropout(x)
 * with W and b frozen. Targets name linear layers of an encoder layer: {@code query}, {@code key}, {@code value}
 * (the self-attention projections), {@code attention.output.dense}, {@code intermediate.dense} and
 * {@code output.dense} (the feed-forward output); the full names {@code attention.self.query} etc. are accepted too.
 * Each target names exactly one layer, so {@code output.dense} does not also match {@code attention.output.dense}.
 */
public record LoraSettings(int rank, double alpha, double dropout, List<String> targets) {
    /** Short name to the linear layer's name inside {@code encoder.layer.i}. */
    static final Map<String, String> LAYER_NAMES = Map.of(
            "query", "attention.self.query",
            "key", "attention.self.key",
            "value", "attention.self.value",
            "attention.output.dense", "attention.output.dense",
            "intermediate.dense", "intermediate.dense",
            "output.dense", "output.dense");

    public LoraSettings {
        if (rank < 1) throw new IllegalArgumentException("LoRA rank must be at least 1, got " + rank);
        if (!(alpha > 0)) throw new IllegalArgumentException("LoRA alpha must be positive, got " + alpha);
        if (!(dropout >= 0 && dropout < 1)) throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
        targets = List.copyOf(targets);
        if (targets.isEmpty()) throw new IllegalArgumentException("LoRA needs at least one target layer");
        Set<String> known = Set.copyOf(LAYER_NAMES.values());
        for (String t : targets) {
            if (!LAYER_NAMES.containsKey(t) && !known.contains(t)) {
                throw new IllegalArgumentException("LoRA target " + t + " is not a linear layer of a BERT layer; one of "
                        + List.of("query", "key", "value", "attention.output.dense", "intermediate.dense", "output.dense"));
            }
        }
    }

    /** The usual choice: rank 8, alpha 16, dropout 0.1 on the query and value projections. */
    public static LoraSettings queryValue() {
        return new LoraSettings(8, 16, 0.1, List.of("query", "value"));
    }

    /** The factor of the adapter's output. */
    public float scaling() {
        return (float) (alpha / rank);
    }

    /** Whether the linear layer of that name inside an encoder layer (e.g. {@code attention.self.query}) gets an adapter. */
    public boolean adapts(String layerName) {
        for (String t : targets) {
            if (LAYER_NAMES.getOrDefault(t, t).equals(layerName)) return true;
        }
        return false;
    }
}
