package dev.goodput.trainer.model.bert;

import java.nio.file.Path;

/** Small real text jobs: MiniLM-L6 on a slice of the Rotten Tomatoes snippets (installed by .ci/text-assets.sh). */
final class TextJobs {
    static final Path MODEL = Path.of("..", "goodput-data", "all-minilm-l6-v2").toAbsolutePath().normalize();
    static final Path ROTTEN = Path.of("..", "goodput-data", "rotten-tomatoes").toAbsolutePath().normalize();

    private TextJobs() {}

    /** @param modelExtra lines under spec.model; {@code trainingExtra} lines under spec.training */
    static String yaml(int train, String modelExtra, String trainingExtra) {
        return """
                apiVersion: goodput.dev/v1alpha1
                kind: TrainingJob
                metadata:
                  name: text-job
                spec:
                  model:
                    architecture: bert-classifier
                    pretrained: %s
                %s
                  data:
                    format: textcsv
                    path: %s
                    trainLimit: %d
                    testLimit: 64
                    text: {maxLength: 64}
                  training:
                    globalBatchSize: 16
                    batchSize: "16"
                    optimizer: {name: adamw, lr: 0.001}
                    seed: 7
                    threads: 2
                %s
                """.formatted(MODEL, indent(modelExtra), ROTTEN, train, indent(trainingExtra));
    }

    private static String indent(String s) {
        return s.isBlank() ? "" : s.lines().map(l -> "    " + l).reduce((a, b) -> a + "\n" + b).orElse("");
    }
}
