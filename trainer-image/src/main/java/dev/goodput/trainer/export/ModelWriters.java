package dev.goodput.trainer.export;

import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.run.Components;
import java.util.Map;

/** Chooses the writer for a run's model: the format follows from where the network came from. */
public final class ModelWriters {
    private ModelWriters() {}

    public static ModelWriter forRun(ModelSpec spec, Components c, ExampleSet train, long step) {
        Normalization norm = c.train().normalization();
        ModelCard card = new ModelCard(ModelCard.FORMAT, DjlModelWriter.WEIGHTS, spec, train.classes(), step,
                new int[] {train.channels(), train.height(), train.width()},
                train.isText() ? null : new ModelCard.Normalization(norm.mean(), norm.std()), null);
        return new DjlModelWriter(c.block(), card, Map.of());
    }
}
