package dev.goodput.trainer.loop;

import dev.goodput.trainer.checkpoint.CheckpointedState;
import dev.goodput.trainer.checkpoint.TrainingState;
import java.util.List;

/** Every evaluation of the job so far, oldest first: the run report's charts continue it after a resume. */
public record EvaluationHistory(List<TrainingState.Evaluation> evaluations) {
    public static final CheckpointedState.Key<EvaluationHistory> KEY =
            new CheckpointedState.Key<>("history", EvaluationHistory.class);

    public EvaluationHistory {
        evaluations = List.copyOf(evaluations);
    }
}
