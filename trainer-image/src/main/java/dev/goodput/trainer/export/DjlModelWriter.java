package dev.goodput.trainer.export;

import ai.djl.nn.Block;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code djl} format: {@code model.params} (DJL's own parameter file, as {@code Block.loadParameters} reads it)
 * and {@code model.json} ({@link ModelCard}); text models add the tokenizer they were trained with.
 */
public final class DjlModelWriter implements ModelWriter {
    public static final String WEIGHTS = "model.params";
    public static final String CARD = ModelCard.FILE;
    private final Block block;
    private final ModelCard card;
    private final Map<String, Path> extraFiles;

    /** @param extraFiles files copied beside the weights under the given names (a text model's tokenizer) */
    public DjlModelWriter(Block block, ModelCard card, Map<String, Path> extraFiles) {
        this.block = block;
        this.card = card;
        this.extraFiles = extraFiles;
    }

    @Override
    public String format() {
        return "djl";
    }

    @Override
    public String weightsFile() {
        return WEIGHTS;
    }

    @Override
    public void writeTo(Path folder) throws IOException {
        try (OutputStream os = Files.newOutputStream(folder.resolve(WEIGHTS));
             DataOutputStream out = new DataOutputStream(new java.io.BufferedOutputStream(os))) {
            block.saveParameters(out);
        }
        card.writeTo(folder);
        for (Map.Entry<String, Path> e : extraFiles.entrySet()) Files.copy(e.getValue(), folder.resolve(e.getKey()));
    }
}
