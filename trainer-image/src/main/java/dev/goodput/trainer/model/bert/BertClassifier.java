package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dev.goodput.trainer.recompute.DropoutSeeds;
import dev.goodput.trainer.recompute.RecomputedGradients;
import dev.goodput.trainer.recompute.Segmented;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A BERT encoder with a linear classifier on the mean of its last hidden states over the real (non-pad) tokens:
 * the pooling all-MiniLM-L6-v2 was trained with as a sentence-transformers model (BERT's own pooler, a dense layer on
 * [CLS], is not used and its weights are not loaded). Parameters carry the Hugging Face state-dict names
 * ({@code embeddings.word_embeddings.weight}, {@code encoder.layer.0.attention.self.query.weight}, ...) plus the new
 * head, {@code classifier.weight} (normal, std = initializer_range, as BERT initialises) and {@code classifier.bias}
 * (zeros), and with LoRA the adapters ({@code encoder.layer.0.attention.self.query.lora_A} and {@code .lora_B}).
 *
 * <p>With LoRA every pretrained parameter is frozen ({@code requiresGradient()} false); only the adapters and the
 * head train.
 *
 * <p>Input, as the trainer feeds every model: one float32 array (N, 1, 1, L) of token ids (float32 holds ids below
 * 2^24 exactly), padded with the config's pad id; the attention mask is derived from {@code ids != pad}. Output: one
 * array of logits (N, classes). In training mode the forward runs in segments (embeddings, each layer, the head) whose
 * dropout is seeded per segment ({@link DropoutSeeds}), which lets {@link RecomputedGradients} replay any of them.
 *
 * <p>Use from the trainer, in this order:
 * <pre>{@code
 * BertClassifier block = BertClassifier.build(folder, classes, lora);       // lora null for full fine-tuning
 * block.initialize(manager, DataType.FLOAT32, new Shape(1, 1, 1, sequenceLength));
 * PretrainedWeights.load(block, folder);                                    // folder/model.safetensors
 * }</pre>
 * or all three at once with {@link #pretrained}. {@code folder} holds {@code config.json} and
 * {@code model.safetensors} as Hugging Face saves them.
 */
public final class BertClassifier extends DottedNameBlock implements Segmented {
    private final BertConfig config;
    private final int classes;
    private final LoraSettings lora;
    private final BertEmbeddings embeddings;
    private final List<BertLayer> layers = new ArrayList<>();
    private final DenseLayer classifier;

    /** @param lora the adapters to train instead of the pretrained weights, or null to train every parameter */
    public BertClassifier(BertConfig config, int classes, LoraSettings lora) {
        if (classes < 2) throw new IllegalArgumentException("a classifier needs at least 2 classes, got " + classes);
        this.config = config;
        this.classes = classes;
        this.lora = lora;
        embeddings = addNamedChild("embeddings", new BertEmbeddings(config));
        for (int i = 0; i < config.layers(); i++) {
            layers.add(addNamedChild("encoder.layer." + i, new BertLayer(config, lora)));
        }
        classifier = addNamedChild("classifier", new DenseLayer(config.hiddenSize(), classes, config.initializerRange()));
        if (lora != null) {
            // Before initialize, so the frozen arrays are never made to require gradients.
            for (Pair<String, Parameter> p : getParameters()) {
                if (!isNew(p.getKey())) p.getValue().freeze(true);
            }
        }
    }

    /** The classifier for the model in {@code folder} (its config.json), not yet initialised nor loaded. */
    public static BertClassifier build(Path folder, int classes, LoraSettings lora) {
        return new BertClassifier(BertConfig.read(folder.resolve("config.json")), classes, lora);
    }

    /**
     * Builds, initialises for sequences of {@code sequenceLength} tokens and loads the pretrained weights: the
     * classifier ready to train. The head and adapters get their initial values from the engine's random generator.
     */
    public static BertClassifier pretrained(Path folder, int classes, LoraSettings lora, NDManager manager,
                                            int sequenceLength) {
        BertClassifier block = build(folder, classes, lora);
        block.initialize(manager, DataType.FLOAT32, new Shape(1, 1, 1, sequenceLength));
        PretrainedWeights.load(block, folder);
        return block;
    }

    /** Whether a parameter is not in a pretrained checkpoint: the head and the adapters. */
    static boolean isNew(String parameterName) {
        return parameterName.startsWith("classifier.") || parameterName.endsWith(".lora_A")
                || parameterName.endsWith(".lora_B");
    }

    public BertConfig config() {
        return config;
    }

    public int classes() {
        return classes;
    }

    /** The adapter settings, or null when every parameter trains. */
    public LoraSettings lora() {
        return lora;
    }

    public int layerCount() {
        return layers.size();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        TokenBatch tokens = tokens(inputs.singletonOrThrow());
        DropoutSeeds seeds = training ? DropoutSeeds.draw(tokens.ids().getManager()) : null;
        NDArray logits = classify(ps, encoded(ps, tokens, training, seeds), tokens, training, seeds);
        if (training) seeds.leave();
        return new NDList(logits);
    }

    /**
     * Segments for {@link RecomputedGradients}: 0 the embeddings (its input is the token ids, which it reads from the
     * batch), 1 to {@code layerCount()} the encoder layers, the last the head; as the training forward runs them.
     */
    @Override
    public Segmented.Pass pass(ParameterStore ps, NDArray x) {
        TokenBatch tokens = tokens(x);
        DropoutSeeds seeds = DropoutSeeds.draw(tokens.ids().getManager());
        int layerCount = layers.size();
        return new Segmented.Pass() {
            @Override
            public int segments() {
                return layerCount + 2;
            }

            @Override
            public NDArray input() {
                return tokens.ids();
            }

            @Override
            public NDArray run(int segment, NDArray input) {
                if (segment == 0) return embed(ps, tokens, true, seeds);
                if (segment <= layerCount) return layer(ps, segment - 1, input, tokens, true, seeds);
                return classify(ps, input, tokens, true, seeds);
            }

            @Override
            public boolean trains(int segment) {
                Block block = segment == 0 ? embeddings : segment <= layerCount ? layers.get(segment - 1) : classifier;
                for (Parameter p : block.getParameters().values()) {
                    if (p.requiresGradient()) return true;
                }
                return false;
            }

            @Override
            public void close() {
                seeds.leave();
            }
        };
    }

    /** The last hidden states (N, L, hidden) for the trainer's input: what the reference test compares. */
    public NDArray encode(ParameterStore ps, NDArray x, boolean training) {
        TokenBatch tokens = tokens(x);
        DropoutSeeds seeds = training ? DropoutSeeds.draw(tokens.ids().getManager()) : null;
        NDArray hidden = encoded(ps, tokens, training, seeds);
        if (training) seeds.leave();
        return hidden;
    }

    private NDArray encoded(ParameterStore ps, TokenBatch tokens, boolean training, DropoutSeeds seeds) {
        NDArray hidden = embed(ps, tokens, training, seeds);
        for (int i = 0; i < layers.size(); i++) hidden = layer(ps, i, hidden, tokens, training, seeds);
        return hidden;
    }

    /** Token ids and masks from the trainer's float32 input (N, 1, 1, L) or (N, L). */
    public TokenBatch tokens(NDArray x) {
        if (x.getDataType() != DataType.FLOAT32) {
            // float16 holds integers exactly only up to 2048: most of the vocabulary would be other tokens.
            throw new IllegalArgumentException("BERT takes token ids as float32, got " + x.getDataType());
        }
        long n = x.getShape().get(0);
        NDArray ids = x.reshape(n, -1).toType(DataType.INT64, false);
        NDArray tokenMask = ids.neq(config.padTokenId()).toType(DataType.FLOAT32, false);
        NDArray attentionBias = tokenMask.sub(1f).mul(Float.MAX_VALUE).reshape(n, 1, 1, -1);
        return new TokenBatch(ids, tokenMask, attentionBias);
    }

    /** Segment 0: the embeddings. */
    public NDArray embed(ParameterStore ps, TokenBatch tokens, boolean training, DropoutSeeds seeds) {
        if (training) seeds.enter(0);
        return embeddings.apply(ps, tokens.ids(), training);
    }

    /** Segment {@code index + 1}: encoder layer {@code index}. */
    public NDArray layer(ParameterStore ps, int index, NDArray hidden, TokenBatch tokens, boolean training,
                         DropoutSeeds seeds) {
        if (training) seeds.enter(index + 1);
        return layers.get(index).apply(ps, hidden, tokens.attentionBias(), training);
    }

    /** The last segment: mean pooling, dropout and the linear head, to logits (N, classes). */
    public NDArray classify(ParameterStore ps, NDArray hidden, TokenBatch tokens, boolean training,
                            DropoutSeeds seeds) {
        if (training) seeds.enter(layers.size() + 1);
        NDArray pooled = meanPool(hidden, tokens.tokenMask());
        if (training && config.hiddenDropout() > 0) {
            pooled = Dropout.dropout(pooled, config.hiddenDropout(), true).singletonOrThrow();
        }
        return classifier.apply(ps, pooled, training);
    }

    /** The mean over the real tokens, as sentence-transformers pools (a count clamped away from 0). */
    public static NDArray meanPool(NDArray hidden, NDArray tokenMask) {
        NDArray mask = tokenMask.expandDims(-1);
        return hidden.mul(mask).sum(new int[] {1}).div(mask.sum(new int[] {1}).maximum(1e-9f));
    }

    /**
     * The parameters of the plain classifier (no adapters) that computes what this one computes in inference: each
     * adapted weight merged, W + (alpha / rank) B A, the rest copied; new arrays on {@code manager}, named as
     * {@link #getParameters()} names them less the adapters. For a merged export, or to load into
     * {@code new BertClassifier(config, classes, null)} with {@link PretrainedWeights#assign}.
     */
    public Map<String, NDArray> mergedParameters(NDManager manager) {
        Map<String, NDArray> merged = new LinkedHashMap<>();
        Map<String, LoraDenseLayer> adapted = new LinkedHashMap<>();
        collectAdapted("", this, adapted);
        for (Pair<String, Parameter> p : getParameters()) {
            String name = p.getKey();
            if (name.endsWith(".lora_A") || name.endsWith(".lora_B")) continue;
            LoraDenseLayer layer = name.endsWith(".weight")
                    ? adapted.get(name.substring(0, name.length() - ".weight".length())) : null;
            if (layer != null) {
                merged.put(name, layer.mergedWeight(manager));
            } else {
                NDArray detached = p.getValue().getArray().stopGradient();
                NDArray copy = detached.duplicate();
                copy.attach(manager);
                detached.close();
                merged.put(name, copy);
            }
        }
        return Collections.unmodifiableMap(merged);
    }

    private static void collectAdapted(String prefix, Block block, Map<String, LoraDenseLayer> into) {
        if (block instanceof LoraDenseLayer l) into.put(prefix, l);
        for (Pair<String, Block> child : block.getChildren()) {
            collectAdapted(prefix.isEmpty() ? child.getKey() : prefix + "." + child.getKey(), child.getValue(), into);
        }
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), classes)};
    }
}
