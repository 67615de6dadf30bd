package dev.goodput.trainer.optim;

import dev.goodput.trainer.checkpoint.CheckpointedState;

/**
 * The optimizer's step count as a checkpointed component (AdamW's bias correction depends on it). Its arrays
 * (moments, momentum, fp16 master weights) are binary and go through {@link Optimizer#state()} into optimizer.bin.
 */
public final class OptimizerSteps implements CheckpointedState<OptimizerSteps.State> {
    public static final Key<State> KEY = new Key<>("optimizer", State.class);

    /** The optimizer's name (adamw, sgd), for people reading state.json, and its step count. */
    public record State(String name, long steps) {}

    private final Optimizer optimizer;
    private final String name;

    public OptimizerSteps(Optimizer optimizer, String name) {
        this.optimizer = optimizer;
        this.name = name;
    }

    @Override
    public Key<State> key() {
        return KEY;
    }

    @Override
    public State save() {
        return new State(name, optimizer.stepCount());
    }

    @Override
    public void restore(State s) {
        optimizer.restoreStepCount(s.steps());
    }
}
