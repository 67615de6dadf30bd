package dev.goodput.trainer.data;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads numeric feature tables: one example per line, the class label (0..k-1) first, then the features. A header
 * line is skipped when its first field is not a number.
 */
public final class CsvReader {
    private CsvReader() {}

    public static ExampleSet read(Path file) throws IOException {
        List<float[]> rows = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        int width = -1;
        int lineNo = 0;
        try (BufferedReader r = Files.newBufferedReader(file)) {
            for (String line; (line = r.readLine()) != null; ) {
                lineNo++;
                if (line.isBlank()) continue;
                String[] f = line.split(",");
                if (lineNo == 1 && !f[0].trim().matches("-?[0-9]+")) continue;
                if (width < 0) width = f.length - 1;
                if (f.length - 1 != width) {
                    throw new IOException(file + ":" + lineNo + ": expected " + width + " features, found " + (f.length - 1));
                }
                try {
                    labels.add(Integer.parseInt(f[0].trim()));
                    float[] x = new float[width];
                    for (int i = 0; i < width; i++) x[i] = Float.parseFloat(f[i + 1].trim());
                    rows.add(x);
                } catch (NumberFormatException e) {
                    throw new IOException(file + ":" + lineNo + ": not a number: " + e.getMessage());
                }
            }
        }
        if (rows.isEmpty()) throw new IOException(file + ": no examples");
        float[] features = new float[rows.size() * width];
        int[] y = new int[rows.size()];
        int classes = 0;
        for (int n = 0; n < rows.size(); n++) {
            System.arraycopy(rows.get(n), 0, features, n * width, width);
            y[n] = labels.get(n);
            if (y[n] < 0) throw new IOException(file + ": negative label " + y[n]);
            classes = Math.max(classes, y[n] + 1);
        }
        return new ExampleSet(null, features, y, 1, 1, width, classes);
    }
}
