package dev.goodput.trainer.data.text;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The pretrained model's own tokenizer (its {@code tokenizer.json}, run by Hugging Face's Rust tokenizers through
 * DJL, so the ids are those Python's {@code tokenizers} gives), truncating to the sequence length with [CLS] and [SEP]
 * kept. Padding is not the tokenizer's job here: examples are stored padded to the sequence length with the model's
 * {@code pad_token_id} and batches are cut to their longest example ({@link dev.goodput.trainer.data.BatchAssembler}).
 */
public final class TextTokenizer implements AutoCloseable {
    private final HuggingFaceTokenizer tokenizer;
    private final int padId;
    private final int maxLength;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, int padId, int maxLength) {
        this.tokenizer = tokenizer;
        this.padId = padId;
        this.maxLength = maxLength;
    }

    /** The tokenizer of the pretrained model in {@code folder} (tokenizer.json; the pad id from config.json). */
    public static TextTokenizer of(Path folder, int maxLength) throws IOException {
        Path json = folder.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IOException("spec.model.pretrained: " + folder + " has no tokenizer.json (the Hugging Face fast tokenizer file)");
        }
        int padId = 0;
        Path config = folder.resolve("config.json");
        if (Files.isRegularFile(config)) {
            JsonNode pad = new ObjectMapper().readTree(config.toFile()).get("pad_token_id");
            if (pad != null && pad.canConvertToInt()) padId = pad.intValue();
        }
        HuggingFaceTokenizer t = HuggingFaceTokenizer.builder().optTokenizerPath(json).optMaxLength(maxLength)
                .optTruncation(true).optPadding(false).optAddSpecialTokens(true).build();
        return new TextTokenizer(t, padId, maxLength);
    }

    public int padId() {
        return padId;
    }

    public int maxLength() {
        return maxLength;
    }

    /** Each text's ids, at most {@code maxLength} of them, special tokens included. */
    public long[][] encode(List<String> texts) {
        Encoding[] encodings = tokenizer.batchEncode(texts);
        long[][] ids = new long[encodings.length][];
        for (int i = 0; i < encodings.length; i++) ids[i] = encodings[i].getIds();
        return ids;
    }

    @Override
    public void close() {
        tokenizer.close();
    }
}
