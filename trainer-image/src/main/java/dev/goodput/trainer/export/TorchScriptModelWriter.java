package dev.goodput.trainer.export;

import dev.goodput.trainer.checkpoint.FileSha256;
import ai.djl.pytorch.engine.PtSymbolBlock;
import dev.goodput.trainer.model.torchscript.ExportedModelWriter;
import dev.goodput.trainer.model.torchscript.StagedModule;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The {@code torchscript} format: {@code model.pt}, the user's module with its trained parameters and buffers
 * ({@code torch.jit.load} and the trainer read it; it records eval mode), and {@code model.json} ({@link ModelCard}:
 * the input shape and the normalisation the module was trained with).
 *
 * <p>A model trained as stages is written as stages: {@code stage-0.pt}, {@code stage-1.pt}, ... (each the user's
 * stage with its trained parameters and buffers), so the folder is itself a model given as stages, which
 * {@code spec.model.torchscript} can name to train it further; and {@code stages.sha256}, the stage files' SHA-256 sums
 * in order as {@code sha256sum} writes them ({@code sha256sum -c stages.sha256} checks them), whose own hash
 * identifies the model in status.model.sha256.
 */
public final class TorchScriptModelWriter implements ModelWriter {
    public static final String WEIGHTS = "model.pt";
    public static final String STAGE_SUMS = "stages.sha256";
    private final List<PtSymbolBlock> blocks;
    private final List<String> files;
    private final ModelCard card;

    public TorchScriptModelWriter(PtSymbolBlock block, ModelCard card) {
        this(List.of(block), List.of(WEIGHTS), card);
    }

    private TorchScriptModelWriter(List<PtSymbolBlock> blocks, List<String> files, ModelCard card) {
        this.blocks = blocks;
        this.files = files;
        this.card = card;
    }

    /** The writer of a model given as stages: one file per stage, named as the trainer reads them. */
    public static TorchScriptModelWriter stages(StagedModule module, ModelCard card) {
        List<PtSymbolBlock> blocks = new ArrayList<>();
        List<String> files = new ArrayList<>();
        for (int i = 0; i < module.stageCount(); i++) {
            blocks.add(module.stage(i));
            files.add(StagedModule.stageName(i) + ".pt");
        }
        return new TorchScriptModelWriter(blocks, files, card);
    }

    private boolean staged() {
        return !files.equals(List.of(WEIGHTS));
    }

    @Override
    public String format() {
        return "torchscript";
    }

    @Override
    public String weightsFile() {
        return staged() ? STAGE_SUMS : WEIGHTS;
    }

    @Override
    public void writeTo(Path folder) throws IOException {
        StringBuilder sums = new StringBuilder();
        for (int i = 0; i < blocks.size(); i++) {
            Path file = folder.resolve(files.get(i));
            ExportedModelWriter.write(blocks.get(i), file);
            sums.append(FileSha256.of(file)).append("  ").append(files.get(i)).append('\n');
        }
        if (staged()) Files.writeString(folder.resolve(STAGE_SUMS), sums, StandardCharsets.UTF_8);
        card.writeTo(folder);
    }
}
