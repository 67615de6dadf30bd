package dev.goodput.trainer.data.text;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Labelled text in CSV (RFC 4180: quoted fields may hold commas, quotes and line breaks) with a header naming its
 * columns; the text and label columns are chosen by name, any others are ignored.
 */
public final class TextCsvReader {
    private TextCsvReader() {}

    /** The texts and labels of one file, in file order. */
    public record Rows(List<String> texts, List<String> labels) {}

    public static Rows read(Path file, String textColumn, String labelColumn) throws IOException {
        CsvMapper mapper = new CsvMapper().enable(CsvParser.Feature.WRAP_AS_ARRAY);
        List<String> texts = new ArrayList<>();
        List<String> labels = new ArrayList<>();
        try (Reader r = Files.newBufferedReader(file);
             MappingIterator<Map<String, String>> it = mapper.readerForMapOf(String.class)
                     .with(CsvSchema.emptySchema().withHeader()).readValues(r)) {
            List<String> header = null;
            while (it.hasNextValue()) {
                Map<String, String> row = it.nextValue();
                if (header == null) {
                    header = List.copyOf(row.keySet());
                    for (String column : List.of(textColumn, labelColumn)) {
                        if (!row.containsKey(column)) {
                            throw new IOException(file + ": no column '" + column + "' in the header " + header
                                    + "; name the columns with spec.data.text.textColumn and spec.data.text.labelColumn");
                        }
                    }
                }
                String label = row.get(labelColumn);
                if (label == null || label.isBlank()) {
                    throw new IOException(file + ": line " + it.getCurrentLocation().getLineNr() + " has no label");
                }
                texts.add(row.get(textColumn) == null ? "" : row.get(textColumn));
                labels.add(label.strip());
            }
        } catch (RuntimeException e) {
            throw new IOException(file + ": not readable as CSV with a header: " + e.getMessage(), e);
        }
        return new Rows(List.copyOf(texts), List.copyOf(labels));
    }
}
