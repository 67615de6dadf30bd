package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.ndarray.NDScope;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dev.goodput.trainer.runtime.NativeScalar;

/**
 * One post-norm transformer encoder layer as BERT has it: multi-head self-attention over the non-pad tokens, its
 * output projection, dropout, residual and LayerNorm; then the feed-forward (intermediate dense, exact GELU, output
 * dense), dropout, residual and LayerNorm. Its linear layers carry a LoRA adapter where the settings name them.
 */
final class BertLayer extends DottedNameBlock {
    private final BertConfig config;
    private final DenseLayer query;
    private final DenseLayer key;
    private final DenseLayer value;
    private final DenseLayer attentionOutput;
    private final LayerNormLayer attentionNorm;
    private final DenseLayer intermediate;
    private final DenseLayer output;
    private final LayerNormLayer outputNorm;

    /** @param lora the adapters, or null for none */
    BertLayer(BertConfig config, LoraSettings lora) {
        this.config = config;
        int h = config.hiddenSize();
        int ff = config.intermediateSize();
        query = addNamedChild("attention.self.query", dense(h, h, "attention.self.query", lora));
        key = addNamedChild("attention.self.key", dense(h, h, "attention.self.key", lora));
        value = addNamedChild("attention.self.value", dense(h, h, "attention.self.value", lora));
        attentionOutput = addNamedChild("attention.output.dense", dense(h, h, "attention.output.dense", lora));
        attentionNorm = addNamedChild("attention.output.LayerNorm", new LayerNormLayer(h, config.layerNormEps()));
        intermediate = addNamedChild("intermediate.dense", dense(h, ff, "intermediate.dense", lora));
        output = addNamedChild("output.dense", dense(ff, h, "output.dense", lora));
        outputNorm = addNamedChild("output.LayerNorm", new LayerNormLayer(h, config.layerNormEps()));
    }

    private DenseLayer dense(int in, int out, String name, LoraSettings lora) {
        return lora != null && lora.adapts(name)
                ? new LoraDenseLayer(in, out, config.initializerRange(), lora)
                : new DenseLayer(in, out, config.initializerRange());
    }

    /**
     * hidden (N, L, hidden) to the next layer's hidden states; attentionBias (N, 1, 1, L) masks the padding. The
     * layer's intermediate arrays (the projections, the scores before softmax, the context before its projection, …)
     * are closed as soon as the layer's output exists, in its own NDScope: PyTorch frees each as its last Python
     * reference goes, and what backward needs autograd holds itself. Left to the step's scope, they stayed alive
     * until the step's end, about 60 MB a layer for MiniLM at batch 16 x 128 tokens.
     */
    NDArray apply(ParameterStore ps, NDArray hidden, NDArray attentionBias, boolean training) {
        NDArray out;
        try (NDScope scope = new NDScope()) {
            out = compute(ps, hidden, attentionBias, training);
            NDScope.unregister(out);
        }
        NDScope.register(out);
        return out;
    }

    private NDArray compute(ParameterStore ps, NDArray hidden, NDArray attentionBias, boolean training) {
        Shape shape = hidden.getShape();
        long n = shape.get(0);
        long length = shape.get(1);
        NDArray q = heads(query.apply(ps, hidden, training), n, length);
        NDArray k = heads(key.apply(ps, hidden, training), n, length);
        NDArray v = heads(value.apply(ps, hidden, training), n, length);
        NDArray scores = NativeScalar.multiply(q.matMul(k.transpose(0, 1, 3, 2)), (float) (1 / Math.sqrt(config.headSize())))
                .add(attentionBias);
        NDArray weights = dropout(scores.softmax(-1), config.attentionDropout(), training);
        NDArray context = weights.matMul(v).transpose(0, 2, 1, 3).reshape(n, length, config.hiddenSize());
        NDArray attended = attentionNorm.apply(ps,
                dropout(attentionOutput.apply(ps, context, training), config.hiddenDropout(), training).add(hidden),
                training);
        NDArray inner = Activation.gelu(intermediate.apply(ps, attended, training));
        return outputNorm.apply(ps,
                dropout(output.apply(ps, inner, training), config.hiddenDropout(), training).add(attended), training);
    }

    /** (N, L, hidden) to (N, heads, L, head size). */
    private NDArray heads(NDArray x, long n, long length) {
        return x.reshape(n, length, config.attentionHeads(), config.headSize()).transpose(0, 2, 1, 3);
    }

    private static NDArray dropout(NDArray x, float rate, boolean training) {
        return training && rate > 0 ? Dropout.dropout(x, rate, true).singletonOrThrow() : x;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.get(0), inputs.get(1), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
