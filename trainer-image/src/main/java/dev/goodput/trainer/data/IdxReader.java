package dev.goodput.trainer.data;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/** Reads the IDX files of MNIST and Fashion-MNIST (plain or gzip), validating magic numbers and counts. */
public final class IdxReader {
    private static final int IMAGES_MAGIC = 0x00000803;
    private static final int LABELS_MAGIC = 0x00000801;

    private IdxReader() {}

    /** Whether {@code dir} has the IDX file {@code name} under any of the names {@link #read} accepts. */
    static boolean present(Path dir, String name) {
        return locate(dir, name) != null;
    }

    /** Loads {@code <prefix>-images-idx3-ubyte[.gz]} and {@code <prefix>-labels-idx1-ubyte[.gz]} from a folder. */
    public static ExampleSet read(Path dir, String prefix) throws IOException {
        Path images = find(dir, prefix + "-images-idx3-ubyte");
        Path labels = find(dir, prefix + "-labels-idx1-ubyte");
        byte[] pixels;
        int rows;
        int cols;
        try (DataInputStream in = open(images)) {
            int magic = in.readInt();
            if (magic != IMAGES_MAGIC) throw new IOException(images + ": not an IDX image file (magic " + Integer.toHexString(magic) + ")");
            int count = in.readInt();
            rows = in.readInt();
            cols = in.readInt();
            pixels = new byte[Math.multiplyExact(count, rows * cols)];
            in.readFully(pixels);
        }
        int[] y;
        try (DataInputStream in = open(labels)) {
            int magic = in.readInt();
            if (magic != LABELS_MAGIC) throw new IOException(labels + ": not an IDX label file (magic " + Integer.toHexString(magic) + ")");
            int count = in.readInt();
            byte[] raw = new byte[count];
            in.readFully(raw);
            y = new int[count];
            for (int i = 0; i < count; i++) y[i] = raw[i] & 0xFF;
        }
        if (y.length * rows * cols != pixels.length) {
            throw new IOException(dir + ": " + prefix + " has " + pixels.length / (rows * cols) + " images but " + y.length + " labels");
        }
        int classes = 0;
        for (int label : y) classes = Math.max(classes, label + 1);
        return new ExampleSet(pixels, null, y, 1, rows, cols, classes);
    }

    private static Path find(Path dir, String name) throws IOException {
        Path p = locate(dir, name);
        if (p == null) throw new IOException("spec.data.path: " + dir + " has no " + name + "[.gz]");
        return p;
    }

    /** {@code name} in {@code dir} as gzip, plain, or with a dot before "idx" (some mirrors' names); null if none. */
    private static Path locate(Path dir, String name) {
        for (String candidate : new String[] {name + ".gz", name, name.replace("-idx", ".idx")}) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) return p;
        }
        return null;
    }

    private static DataInputStream open(Path p) throws IOException {
        InputStream in = new BufferedInputStream(Files.newInputStream(p), 1 << 16);
        if (p.toString().endsWith(".gz")) in = new GZIPInputStream(in, 1 << 16);
        return new DataInputStream(in);
    }
}
