package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * BERT's input layer: word + absolute position + token type embeddings, summed, layer-normalised, dropped out. Every
 * token gets token type 0: the classifier reads single sentences, not sentence pairs.
 */
final class BertEmbeddings extends DottedNameBlock {
    private final BertConfig config;
    private final Parameter words;
    private final Parameter positions;
    private final Parameter tokenTypes;
    private final LayerNormLayer norm;

    BertEmbeddings(BertConfig config) {
        this.config = config;
        words = table("word_embeddings.weight", config.vocabSize());
        positions = table("position_embeddings.weight", config.maxPositions());
        tokenTypes = table("token_type_embeddings.weight", config.typeVocabSize());
        norm = addNamedChild("LayerNorm", new LayerNormLayer(config.hiddenSize(), config.layerNormEps()));
    }

    private Parameter table(String name, int rows) {
        return addParameter(Parameter.builder().setName(name).setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(rows, config.hiddenSize()))
                .optInitializer(new NormalInitializer(config.initializerRange())).build());
    }

    /** ids int64 (N, L) to hidden states (N, L, hidden). */
    NDArray apply(ParameterStore ps, NDArray ids, boolean training) {
        long length = ids.getShape().get(1);
        if (length > config.maxPositions()) {
            throw new IllegalArgumentException("sequence length " + length + " is longer than the model's "
                    + config.maxPositions() + " positions");
        }
        var device = ids.getDevice();
        NDArray word = lookup(ids, ps.getValue(words, device, training));
        NDArray position = lookup(ids.getManager().arange(0, (int) length, 1, DataType.INT64),
                ps.getValue(positions, device, training));
        NDArray type = lookup(ids.getManager().zeros(new Shape(1), DataType.INT64),
                ps.getValue(tokenTypes, device, training));
        // The order of Hugging Face's BertEmbeddings: (words + types) + positions.
        NDArray sum = word.add(type).add(position);
        NDArray normed = norm.apply(ps, sum, training);
        return training && config.hiddenDropout() > 0
                ? Dropout.dropout(normed, config.hiddenDropout(), true).singletonOrThrow() : normed;
    }

    private static NDArray lookup(NDArray ids, NDArray table) {
        return Embedding.embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(config.hiddenSize())};
    }
}
