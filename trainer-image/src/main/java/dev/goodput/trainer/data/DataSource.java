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
    /**
     * Pre-flight: the folder exists and holds what its format needs (the files, not their contents, which
     * {@link #load} reads). A mismatch is refused naming both fields, what the format expects, and the format the
     * folder looks like, so a csv job pointed at an IDX folder says so instead of failing on a missing file.
     */
    public static void checkReadable(DataSpec spec) {
        Path p = Path.of(spec.path);
        if (!Files.exists(p)) {
            throw new IllegalArgumentException("spec.data.path: " + spec.path + " does not exist"
                    + (DataSpec.DEFAULT_PATH.equals(spec.path) ? " (install Debian's dataset-fashion-mnist)" : ""));
        }
        if (!Files.isDirectory(p)) {
            throw new IllegalArgumentException("spec.data.path: " + spec.path + " is a file; it must be the folder holding the data");
        }
        String format = spec.format == null ? "idx" : spec.format;
        List<String> missing = missing(p, format);
        if (!missing.isEmpty()) {
            String looks = java.util.stream.Stream.of("idx", "csv", "imagefolder")
                    .filter(f -> !f.equals(format) && missing(p, f).isEmpty()).findFirst()
                    .map(f -> "; it looks like " + f + " data: set spec.data.format: " + f).orElse("");
            throw new IllegalArgumentException("spec.data.format: " + format + " expects " + expected(format) + " in spec.data.path "
                    + spec.path + ", which has no " + String.join(", ", missing) + looks);
        }
    }

    /** What {@code format} needs in a data folder. */
    static String expected(String format) {
        return switch (format) {
            case "csv" -> "train.csv and test.csv (label first, then features)";
            case "imagefolder" -> "folders train/<class>/ and test/<class>/ of images";
            default -> "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be .gz)";
        };
    }

    /** The entries {@code format} needs that {@code dir} lacks. */
    static List<String> missing(Path dir, String format) {
        List<String> names = switch (format) {
            case "csv" -> List.of("train.csv", "test.csv");
            case "imagefolder" -> List.of("train/", "test/");
            default -> List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
        };
        return names.stream().filter(n -> n.endsWith("/") ? !Files.isDirectory(dir.resolve(n))
                : !IdxReader.present(dir, n) && !Files.isRegularFile(dir.resolve(n))).toList();
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
