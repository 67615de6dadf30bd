package dev.goodput.trainer.model.torchscript;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import dev.goodput.trainer.loop.GradientAccumulator;
import dev.goodput.trainer.loop.GradientSource;
import dev.goodput.trainer.optim.TrainableParameter;
import java.util.ArrayList;
import java.util.List;

/**
 * The gradients of a TorchScript module with {@link ModuleAdapters}: the module's own (plain or recomputed), with
 * each adapted weight's gradient handed on to its adapters, which the optimizer updates in its place; after the
 * update the weights are merged again for the next forward.
 */
public final class AdapterGradients implements GradientSource {
    private final GradientSource module;
    private final ModuleAdapters adapters;
    private final List<Pair<String, Parameter>> adapterParameters;
    private List<TrainableParameter> adapterHandles;

    public AdapterGradients(GradientSource module, ModuleAdapters adapters) {
        this.module = module;
        this.adapters = adapters;
        this.adapterParameters = adapters.parameters().stream().toList();
    }

    @Override
    public float forwardBackward(NDArray x, NDArray y, float lossScale) {
        return module.forwardBackward(x, y, lossScale);
    }

    /** The module's trainable parameters less the adapted weights, then the adapters with this step's gradients. */
    @Override
    public List<TrainableParameter> gradients() {
        adapters.backpropagate();
        List<TrainableParameter> all = new ArrayList<>();
        for (TrainableParameter p : module.gradients()) {
            if (!adapters.adapts(p.name())) all.add(p);
        }
        // As GradientAccumulator: libtorch accumulates into and zeroes a gradient in place, so one handle serves.
        if (adapterHandles == null) adapterHandles = GradientAccumulator.gradientHandles(adapterParameters);
        all.addAll(adapterHandles);
        return all;
    }

    @Override
    public void zeroGradients() {
        module.zeroGradients();
        for (Pair<String, Parameter> p : adapterParameters) JniUtils.zeroGrad((PtNDArray) p.getValue().getArray());
    }

    @Override
    public void afterUpdate() {
        module.afterUpdate();
        adapters.merge();
    }
}
