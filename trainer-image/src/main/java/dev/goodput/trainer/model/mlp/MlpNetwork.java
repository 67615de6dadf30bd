package dev.goodput.trainer.model.mlp;

import ai.djl.nn.Activation;
import ai.djl.nn.Blocks;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import java.util.ArrayList;
import java.util.List;

/**
 * The built-in fully connected network ({@code architecture: mlp}): flatten, then hidden layers with ReLU, then the
 * classifier, with optional dropout before it. A plain {@link SequentialBlock} in its children and parameter names
 * (checkpoints written before this class existed load as they did); the class exists so the trainer knows the
 * network's layers and can run its training step as one graph ({@link MlpStepGradients}).
 */
public final class MlpNetwork extends SequentialBlock {
    private final List<Linear> layers = new ArrayList<>();
    private final boolean dropout;

    private MlpNetwork(boolean dropout) {
        this.dropout = dropout;
    }

    public static MlpNetwork build(List<Integer> hidden, float dropout, int classes) {
        MlpNetwork net = new MlpNetwork(dropout > 0);
        net.add(Blocks.batchFlattenBlock());
        for (int units : hidden) {
            net.add(net.layer(units)).add(Activation.reluBlock());
        }
        if (dropout > 0) net.add(Dropout.builder().optRate(dropout).build());
        net.add(net.layer(classes));
        return net;
    }

    private Linear layer(int units) {
        Linear linear = Linear.builder().setUnits(units).build();
        layers.add(linear);
        return linear;
    }

    /** The linear layers, input first; each has a weight (out, in) and a bias (out). */
    public List<Linear> layers() {
        return List.copyOf(layers);
    }

    public boolean hasDropout() {
        return dropout;
    }
}
