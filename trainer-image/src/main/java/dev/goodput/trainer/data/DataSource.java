package dev.goodput.trainer.data;

import dev.goodput.api.spec.DataSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Loads the train and test splits a DataSpec names, in the format it names, sliced to its limits. */
public final class DataSource {
    private DataSource() {}

    public record Splits(ExampleSet train, ExampleSet test) {}

    /** Fails before any training with a message naming spec.data.path when the data is not there. */
    public static void checkReadable(DataSpec spec) {
        Path p = Path.of(spec.path);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("spec.data.path: " + spec.path + " does not exist"
                    + (DataSpec.DEFAULT_PATH.equals(spec.path) ? " (install Debian's dataset-fashion-mnist)" : ""));
        }
    }

    public static Splits load(DataSpec spec) throws IOException {
        checkReadable(spec);
        Path p = Path.of(spec.path);
        Splits s = switch (spec.format == null ? "idx" : spec.format) {
            case "idx" -> new Splits(IdxReader.read(p, "train"), IdxReader.read(p, "t10k"));
            case "csv" -> new Splits(CsvReader.read(p.resolve("train.csv")), CsvReader.read(p.resolve("test.csv")));
            case "imagefolder" -> {
                List<String> classes = ImageFolderReader.classNames(p.resolve("train"));
                yield new Splits(ImageFolderReader.read(p.resolve("train"), classes), ImageFolderReader.read(p.resolve("test"), classes));
            }
            default -> throw new IllegalArgumentException("spec.data.format: unknown format " + spec.format);
        };
        ExampleSet train = spec.trainLimit == null ? s.train() : s.train().slice(spec.trainLimit);
        ExampleSet test = spec.testLimit == null ? s.test() : s.test().slice(spec.testLimit);
        if (train.exampleLength() != test.exampleLength()) {
            throw new IOException("spec.data.path: train and test examples differ in shape");
        }
        int classes = Math.max(train.classes(), test.classes());
        return new Splits(withClasses(train, classes), withClasses(test, classes));
    }

    private static ExampleSet withClasses(ExampleSet s, int classes) {
        return new ExampleSet(s.pixels(), s.features(), s.labels(), s.channels(), s.height(), s.width(), classes);
    }
}
