package dev.goodput.trainer.export;

import dev.goodput.trainer.checkpoint.FileSha256;
import dev.goodput.api.spec.ModelSpec;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.run.Components;
import ai.djl.pytorch.engine.PtSymbolBlock;
import dev.goodput.trainer.model.torchscript.StagedModule;
import dev.goodput.trainer.model.bert.BertClassifier;
import dev.goodput.trainer.model.bert.PretrainedWeights;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** Chooses the writer for a run's model: the format follows from where the network came from. */
public final class ModelWriters {
    private ModelWriters() {}

    public static ModelWriter forRun(ModelSpec spec, Components c, ExampleSet train, long step) throws IOException {
        int[] input = {train.channels(), train.height(), train.width()};
        if (c.block() instanceof BertClassifier bert) {
            Path pretrained = Path.of(spec.pretrained);
            ModelCard.Base base = bert.lora() == null ? null : new ModelCard.Base(pretrained.toAbsolutePath().toString(),
                    FileSha256.of(pretrained.resolve(PretrainedWeights.FILE)));
            ModelCard card = new ModelCard(ModelCard.SAFETENSORS, BertModelWriter.WEIGHTS, spec, train.classes(), step,
                    input, null, new ModelCard.Text(train.width(), train.tokens().padId(), "tokenizer.json"), base);
            return new BertModelWriter(bert, pretrained, card);
        }
        Normalization norm = c.train().normalization();
        ModelCard.Normalization normalization = new ModelCard.Normalization(norm.mean(), norm.std());
        if (c.block() instanceof StagedModule staged) {
            return TorchScriptModelWriter.stages(staged, new ModelCard(ModelCard.TORCHSCRIPT_STAGES,
                    TorchScriptModelWriter.STAGE_SUMS, spec, train.classes(), step, input, normalization, null, null));
        }
        if (c.block() instanceof PtSymbolBlock module) {
            return new TorchScriptModelWriter(module, new ModelCard(ModelCard.TORCHSCRIPT, TorchScriptModelWriter.WEIGHTS,
                    spec, train.classes(), step, input, normalization, null, null));
        }
        ModelCard card = new ModelCard(ModelCard.DJL, DjlModelWriter.WEIGHTS, spec, train.classes(), step, input,
                normalization, null, null);
        return new DjlModelWriter(c.block(), card, Map.of());
    }
}
