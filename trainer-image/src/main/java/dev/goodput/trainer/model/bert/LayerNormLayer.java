package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;

/**
 * Layer normalisation over the last axis with PyTorch's parameter names ({@code weight}, {@code bias}; DJL's
 * LayerNorm block calls them gamma and beta) and the config's epsilon (1e-12 in BERT, not DJL's default 1e-5).
 */
final class LayerNormLayer extends AbstractBlock {
    private final long size;
    private final float eps;
    private final Parameter weight;
    private final Parameter bias;

    LayerNormLayer(long size, float eps) {
        this.size = size;
        this.eps = eps;
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.GAMMA)
                .optShape(new Shape(size)).optInitializer(Initializer.ONES).build());
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BETA)
                .optShape(new Shape(size)).optInitializer(Initializer.ZEROS).build());
    }

    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        return LayerNorm.layerNorm(x, new Shape(size), ps.getValue(weight, x.getDevice(), training),
                ps.getValue(bias, x.getDevice(), training), eps).singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return inputShapes;
    }
}
