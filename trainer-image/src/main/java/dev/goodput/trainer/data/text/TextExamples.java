package dev.goodput.trainer.data.text;

import dev.goodput.trainer.data.ExampleSet;
import java.io.IOException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Labelled texts, tokenized into an {@link ExampleSet} of token ids padded to the sequence length. */
public final class TextExamples {
    private TextExamples() {}

    /**
     * @param labels  each text's class name
     * @param classes class name → index (the sorted names of the training split)
     * @param where   the file or folder, for messages
     */
    public static ExampleSet tokenize(List<String> texts, List<String> labels, Map<String, Integer> classes,
                                      TextTokenizer tokenizer, boolean padBatchToLongest, String where) throws IOException {
        if (texts.isEmpty()) throw new IOException(where + ": no examples");
        int width = tokenizer.maxLength();
        long[][] ids = tokenizer.encode(texts);
        float[] features = new float[texts.size() * width];
        Arrays.fill(features, tokenizer.padId());
        int[] lengths = new int[texts.size()];
        int[] y = new int[texts.size()];
        for (int n = 0; n < ids.length; n++) {
            Integer c = classes.get(labels.get(n));
            if (c == null) {
                throw new IOException(where + ": label '" + labels.get(n) + "' of example " + (n + 1)
                        + " is not among the training split's classes " + classes.keySet());
            }
            y[n] = c;
            lengths[n] = Math.min(width, ids[n].length);
            for (int i = 0; i < lengths[n]; i++) features[n * width + i] = ids[n][i];
        }
        return new ExampleSet(null, features, y, 1, 1, width, classes.size(),
                new ExampleSet.Tokens(tokenizer.padId(), lengths, padBatchToLongest));
    }
}
