package dev.goodput.trainer.data;

import dev.goodput.api.spec.DataSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import dev.goodput.trainer.data.text.TextCsvReader;
import dev.goodput.trainer.data.text.TextExamples;
import dev.goodput.trainer.data.text.TextFolderReader;
import dev.goodput.trainer.data.text.TextTokenizer;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/** Loads the train and test splits a DataSpec names, in the format it names, sliced to its limits. */
public final class DataSource {
    private DataSource() {}

    public record Splits(ExampleSet train, ExampleSet test) {}

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
            String looks = java.util.stream.Stream.of("idx", "csv", "imagefolder", "textcsv", "textfolder")
                    .filter(f -> DataSpec.isText(f) == DataSpec.isText(format))
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
            case "textcsv" -> "train.csv and test.csv (a header naming the text and label columns)";
            case "imagefolder" -> "folders train/<class>/ and test/<class>/ of images";
            case "textfolder" -> "folders train/<class>/ and test/<class>/ of .txt files";
            default -> "train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (each may be .gz)";
        };
    }

    /** The entries {@code format} needs that {@code dir} lacks. */
    static List<String> missing(Path dir, String format) {
        List<String> names = switch (format) {
            case "csv", "textcsv" -> List.of("train.csv", "test.csv");
            case "imagefolder", "textfolder" -> List.of("train/", "test/");
            default -> List.of("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
        };
        return names.stream().filter(n -> n.endsWith("/") ? !Files.isDirectory(dir.resolve(n))
                : !IdxReader.present(dir, n) && !Files.isRegularFile(dir.resolve(n))).toList();
    }

    /** Image and feature data; text needs the model's tokenizer ({@link #load(DataSpec, String)}). */
    public static Splits load(DataSpec spec) throws IOException {
        return load(spec, null);
    }

    /** @param pretrained the folder of the pretrained text model whose tokenizer reads text formats; null for others */
    public static Splits load(DataSpec spec, String pretrained) throws IOException {
        checkReadable(spec);
        Path p = Path.of(spec.path);
        Splits s = switch (spec.format == null ? "idx" : spec.format) {
            case "textcsv", "textfolder" -> text(spec, pretrained);
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
        return new Splits(train.withClasses(classes), test.withClasses(classes));
    }

    /** Text: the classes are the training split's sorted distinct labels; both splits tokenized by the model's tokenizer. */
    private static Splits text(DataSpec spec, String pretrained) throws IOException {
        if (pretrained == null) {
            throw new IllegalArgumentException("spec.data.format: " + spec.format + " is text, read by a text model's tokenizer:"
                    + " use architecture bert-classifier with spec.model.pretrained");
        }
        DataSpec.TextSpec t = spec.text == null ? new DataSpec.TextSpec() : spec.text;
        Path p = Path.of(spec.path);
        TextCsvReader.Rows train;
        TextCsvReader.Rows test;
        if ("textcsv".equals(spec.format)) {
            train = TextCsvReader.read(p.resolve("train.csv"), t.textColumnOrDefault(), t.labelColumnOrDefault());
            test = TextCsvReader.read(p.resolve("test.csv"), t.textColumnOrDefault(), t.labelColumnOrDefault());
        } else {
            train = TextFolderReader.read(p.resolve("train"));
            test = TextFolderReader.read(p.resolve("test"));
        }
        Map<String, Integer> classes = new LinkedHashMap<>();
        for (String c : new TreeSet<>(train.labels())) classes.put(c, classes.size());
        try (TextTokenizer tokenizer = TextTokenizer.of(Path.of(pretrained), t.maxLengthOrDefault())) {
            String where = spec.path + "/" + ("textcsv".equals(spec.format) ? "%s.csv" : "%s/");
            return new Splits(
                    TextExamples.tokenize(train.texts(), train.labels(), classes, tokenizer, t.padToLongest(), where.formatted("train")),
                    TextExamples.tokenize(test.texts(), test.labels(), classes, tokenizer, t.padToLongest(), where.formatted("test")));
        }
    }
}
