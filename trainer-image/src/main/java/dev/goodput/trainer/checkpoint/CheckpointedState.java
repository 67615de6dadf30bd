package dev.goodput.trainer.checkpoint;

import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A component whose state a checkpoint must hold for a resumed run to continue exactly: the optimizer's step count,
 * the loss scaler, the loop's position, the stopping rule, the evaluation history, the attempts. Modelled on PyTorch
 * Lightning's {@code state_dict} / {@code load_state_dict} for callbacks: the checkpoint knows no component, it collects
 * each one's state under its key ({@link CheckpointedStates}) and hands it back on resume.
 *
 * <p>Arrays (parameters, optimizer moments) do not go through here: they are copied to host memory and written as
 * binary files by {@link ModelState}. The learning-rate schedule has no state at all: it is a pure function of the
 * optimizer step ({@code LrSchedule.lr(step)}), so the restored step is all it needs.
 *
 * @param <S> the state: a record (or another value Jackson writes and reads back exactly), immutable once returned
 */
public interface CheckpointedState<S> {

    /**
     * Where a component's state is in state.json and what it reads back as.
     *
     * @param name the name in state.json's {@code components}; stable across versions, since old checkpoints are read
     *             by it
     * @param type the state's class
     */
    record Key<S>(String name, Class<S> type) {}

    Key<S> key();

    /** The state now; called on the training thread between steps, so it must not change afterwards. */
    S save();

    /** Puts a saved state back, before the first step of a resumed run. */
    void restore(S state);

    /**
     * Whether a checkpoint may lack this component, in which case it keeps its initial state. Only the loss scaler is:
     * precision may change while a job is suspended, and a checkpoint written in fp32 has no loss scale to resume.
     */
    default boolean optional() {
        return false;
    }

    /** A component made of a getter and a setter, for state held by an object that reports it elsewhere too. */
    static <S> CheckpointedState<S> of(Key<S> key, Supplier<S> save, Consumer<S> restore) {
        return new CheckpointedState<>() {
            @Override
            public Key<S> key() {
                return key;
            }

            @Override
            public S save() {
                return save.get();
            }

            @Override
            public void restore(S state) {
                restore.accept(state);
            }
        };
    }
}
