package dev.goodput.api;

import java.util.List;

/** A manifest the trainer refuses, with every problem found, each naming its field. */
public class ManifestException extends RuntimeException {
    private final List<String> problems;

    public ManifestException(String source, List<String> problems) {
        super("invalid TrainingJob " + source + ":\n  - " + String.join("\n  - ", problems));
        this.problems = List.copyOf(problems);
    }

    public List<String> problems() {
        return problems;
    }
}
