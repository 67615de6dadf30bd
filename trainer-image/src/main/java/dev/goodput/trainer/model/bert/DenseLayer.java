package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;

/**
 * A linear layer in PyTorch's layout: {@code weight} is (out, in), {@code bias} (out), y = x W^T + b over the last
 * axis. Unlike DJL's Linear its input size is fixed when built, so its parameters exist before the first forward and
 * pretrained weights can be checked against them; weights start as BERT's do, normal with the given std, bias zero.
 */
class DenseLayer extends AbstractBlock {
    protected final long inFeatures;
    protected final long outFeatures;
    protected final Parameter weight;
    protected final Parameter bias;

    DenseLayer(long inFeatures, long outFeatures, float initStd) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        weight = addParameter(Parameter.builder().setName("weight").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(outFeatures, inFeatures)).optInitializer(new NormalInitializer(initStd)).build());
        bias = addParameter(Parameter.builder().setName("bias").setType(Parameter.Type.BIAS)
                .optShape(new Shape(outFeatures)).optInitializer(Initializer.ZEROS).build());
    }

    /** y = x W^T + b for x of shape (..., in). */
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        return Linear.linear(x, ps.getValue(weight, x.getDevice(), training), ps.getValue(bias, x.getDevice(), training))
                .singletonOrThrow();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training, PairList<String, Object> params) {
        return new NDList(apply(ps, inputs.singletonOrThrow(), training));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        Shape in = inputShapes[0];
        return new Shape[] {in.slice(0, in.dimension() - 1).add(outFeatures)};
    }
}
