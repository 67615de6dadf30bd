package dev.goodput.trainer.export;

import ai.djl.pytorch.engine.PtSymbolBlock;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.goodput.trainer.model.torchscript.ExportedModelWriter;
import java.io.IOException;
import java.nio.file.Path;

/**
 * The {@code torchscript} format: {@code model.pt}, the user's module with its trained parameters and buffers
 * ({@code torch.jit.load} and the trainer read it; it records eval mode), and {@code model.json} ({@link ModelCard}:
 * the input shape and the normalisation the module was trained with).
 */
public final class TorchScriptModelWriter implements ModelWriter {
    public static final String WEIGHTS = "model.pt";
    private final PtSymbolBlock block;
    private final ModelCard card;

    public TorchScriptModelWriter(PtSymbolBlock block, ModelCard card) {
        this.block = block;
        this.card = card;
    }

    @Override
    public String format() {
        return "torchscript";
    }

    @Override
    public String weightsFile() {
        return WEIGHTS;
    }

    @Override
    public void writeTo(Path folder) throws IOException {
        ExportedModelWriter.write(block, folder.resolve(WEIGHTS));
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(folder.resolve(DjlModelWriter.CARD).toFile(), card);
    }
}
