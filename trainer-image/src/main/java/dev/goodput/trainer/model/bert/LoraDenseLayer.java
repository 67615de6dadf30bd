package dev.goodput.trainer.model.bert;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.UniformInitializer;
import dev.goodput.trainer.runtime.NativeScalar;

/**
 * A {@link DenseLayer} with a low-rank adapter: y = W x + b + s B A dropout(x), s = alpha / rank, with
 * {@code lora_A} (rank, in) and {@code lora_B} (out, rank). A starts uniform in +-1/sqrt(in) (Kaiming-uniform with
 * a = sqrt(5), as PyTorch initialises a linear layer and the LoRA paper's code its A) and B at zero, so the adapter
 * adds exactly nothing until it has trained: a LoRA model starts as the pretrained one. W and b are frozen by
 * {@link BertClassifier}, which freezes every pretrained parameter at once.
 */
final class LoraDenseLayer extends DenseLayer {
    private final Parameter loraA;
    private final Parameter loraB;
    private final float scaling;
    private final float dropout;

    LoraDenseLayer(long inFeatures, long outFeatures, float initStd, LoraSettings lora) {
        super(inFeatures, outFeatures, initStd);
        scaling = lora.scaling();
        dropout = (float) lora.dropout();
        loraA = addParameter(Parameter.builder().setName("lora_A").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(lora.rank(), inFeatures))
                .optInitializer(new UniformInitializer((float) (1 / Math.sqrt(inFeatures)))).build());
        loraB = addParameter(Parameter.builder().setName("lora_B").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(outFeatures, lora.rank())).optInitializer(Initializer.ZEROS).build());
    }

    @Override
    NDArray apply(ParameterStore ps, NDArray x, boolean training) {
        NDArray base = super.apply(ps, x, training);
        NDArray a = ps.getValue(loraA, x.getDevice(), training);
        NDArray b = ps.getValue(loraB, x.getDevice(), training);
        NDArray in = dropout > 0 ? Dropout.dropout(x, dropout, training).singletonOrThrow() : x;
        NDArray update = Linear.linear(Linear.linear(in, a).singletonOrThrow(), b).singletonOrThrow();
        return base.add(NativeScalar.multiply(update, scaling));
    }

    /**
     * W + s B A, the weight of a plain linear layer computing what this one computes without adapter dropout (in
     * inference), as a new array outside autograd on {@code manager}.
     */
    NDArray mergedWeight(NDManager manager) {
        NDArray w = weight.getArray().stopGradient();
        NDArray a = loraA.getArray().stopGradient();
        NDArray b = loraB.getArray().stopGradient();
        NDArray merged = w.add(b.matMul(a).mul(scaling));
        merged.attach(manager);
        for (NDArray t : new NDArray[] {w, a, b}) t.close();
        return merged;
    }
}
