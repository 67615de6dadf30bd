package dev.goodput.trainer.export;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import dev.goodput.trainer.model.bert.BertClassifier;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The {@code safetensors} format of a fine-tuned bert-classifier, a Hugging Face model folder: {@code model.safetensors}
 * (every weight under its Hugging Face name, LoRA adapters merged into the weights they adapt, and the head as
 * {@code classifier.weight}/{@code classifier.bias}), the pretrained model's {@code config.json} and
 * {@code tokenizer.json}, and {@code model.json} ({@link ModelCard}). With LoRA, also {@code adapters.safetensors}:
 * the adapters and the head alone (a few hundred KB), to apply to the base weights the card names by hash. The
 * folder is itself a valid {@code spec.model.pretrained} for a further fine-tune, which keeps the head when the
 * classes match.
 */
public final class BertModelWriter implements ModelWriter {
    public static final String WEIGHTS = "model.safetensors";
    public static final String ADAPTERS = "adapters.safetensors";
    private final BertClassifier block;
    private final Path pretrained;
    private final ModelCard card;

    public BertModelWriter(BertClassifier block, Path pretrained, ModelCard card) {
        this.block = block;
        this.pretrained = pretrained;
        this.card = card;
    }

    @Override
    public String format() {
        return "safetensors";
    }

    @Override
    public String weightsFile() {
        return WEIGHTS;
    }

    @Override
    public void writeTo(Path folder) throws IOException {
        NDManager owner = block.getParameters().valueAt(0).getArray().getManager();
        try (NDManager scratch = owner.newSubManager()) {
            write(folder.resolve(WEIGHTS), block.mergedParameters(scratch));
            if (block.lora() != null) {
                Map<String, NDArray> adapters = new java.util.LinkedHashMap<>();
                for (Pair<String, Parameter> p : block.getParameters()) {
                    if (p.getValue().requiresGradient()) adapters.put(p.getKey(), p.getValue().getArray());
                }
                write(folder.resolve(ADAPTERS), adapters);
            }
        }
        for (String f : List.of("config.json", "tokenizer.json")) Files.copy(pretrained.resolve(f), folder.resolve(f));
        card.writeTo(folder);
    }

    private static void write(Path file, Map<String, NDArray> tensors) throws IOException {
        NDList list = new NDList();
        for (Map.Entry<String, NDArray> e : tensors.entrySet()) {
            NDArray a = e.getValue().duplicate();
            a.setName(e.getKey());
            list.add(a);
        }
        try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(file))) {
            list.encode(out, NDList.Encoding.SAFETENSORS);
        } finally {
            list.close();
        }
    }
}
