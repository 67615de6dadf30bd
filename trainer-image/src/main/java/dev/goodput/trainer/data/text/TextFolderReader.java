package dev.goodput.trainer.data.text;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** Labelled text as a folder per class, one example per {@code .txt} file (UTF-8), read in sorted name order. */
public final class TextFolderReader {
    private TextFolderReader() {}

    /** The class folders of {@code split}, sorted: their names are the classes. */
    public static List<String> classNames(Path split) throws IOException {
        try (Stream<Path> s = Files.list(split)) {
            List<String> names = s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
            if (names.isEmpty()) throw new IOException(split + ": no class folders (expected " + split + "/<class>/*.txt)");
            return names;
        }
    }

    public static TextCsvReader.Rows read(Path split) throws IOException {
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        for (String c : classNames(split)) {
            List<Path> files;
            try (Stream<Path> s = Files.list(split.resolve(c))) {
                files = s.filter(p -> p.getFileName().toString().endsWith(".txt")).sorted().toList();
            }
            for (Path f : files) {
                texts.add(Files.readString(f, StandardCharsets.UTF_8));
                labels.add(c);
            }
        }
        return new TextCsvReader.Rows(List.copyOf(texts), List.copyOf(labels));
    }
}
