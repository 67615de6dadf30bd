package dev.goodput.trainer.optim;

import ai.djl.ndarray.NDManager;

/**
 * An optimizer's hyper-parameters with every default resolved (the run planner fills them in); {@link #build} makes
 * the optimizer. AdamW's decoupled weight decay defaults to 0.01, SGD's to 0: the conventions of PyTorch's recipes.
 */
public record OptimizerSettings(String name, double beta1, double beta2, double eps, double momentum, boolean nesterov,
                                double weightDecay) {

    public Optimizer build(NDManager manager) {
        return "sgd".equals(name) ? new Sgd(manager, momentum, nesterov, weightDecay)
                : new AdamW(manager, beta1, beta2, eps, weightDecay);
    }
}
