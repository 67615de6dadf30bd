package dev.goodput.trainer.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads a folder of images by class ({@code <split>/<class>/*.png|jpg}), classes in name order. All images must share
 * one size; grey images give one channel, colour images three.
 */
public final class ImageFolderReader {
    private ImageFolderReader() {}

    public static ExampleSet read(Path splitDir, List<String> classNames) throws IOException {
        List<Path> files = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (int c = 0; c < classNames.size(); c++) {
            Path dir = splitDir.resolve(classNames.get(c));
            if (!Files.isDirectory(dir)) continue;
            try (Stream<Path> s = Files.list(dir)) {
                for (Path f : s.filter(p -> p.toString().matches("(?i).*\\.(png|jpe?g|bmp|gif)$")).sorted().toList()) {
                    files.add(f);
                    labels.add(c);
                }
            }
        }
        if (files.isEmpty()) throw new IOException("spec.data.path: no images under " + splitDir + "/<class>/");
        BufferedImage first = load(files.get(0));
        int h = first.getHeight();
        int w = first.getWidth();
        boolean grey = first.getColorModel().getNumColorComponents() == 1;
        int ch = grey ? 1 : 3;
        byte[] pixels = new byte[files.size() * ch * h * w];
        int[] y = new int[files.size()];
        for (int n = 0; n < files.size(); n++) {
            BufferedImage img = n == 0 ? first : load(files.get(n));
            if (img.getHeight() != h || img.getWidth() != w) {
                throw new IOException(files.get(n) + ": " + img.getWidth() + "x" + img.getHeight() + ", expected " + w + "x" + h);
            }
            int base = n * ch * h * w;
            for (int r = 0; r < h; r++) {
                for (int col = 0; col < w; col++) {
                    if (grey) {
                        // The raw sample: getRGB would pass grey through a colour-space conversion.
                        pixels[base + r * w + col] = (byte) img.getRaster().getSample(col, r, 0);
                    } else {
                        int rgb = img.getRGB(col, r);
                        pixels[base + r * w + col] = (byte) (rgb >> 16);
                        pixels[base + h * w + r * w + col] = (byte) (rgb >> 8);
                        pixels[base + 2 * h * w + r * w + col] = (byte) rgb;
                    }
                }
            }
            y[n] = labels.get(n);
        }
        return new ExampleSet(pixels, null, y, ch, h, w, classNames.size());
    }

    /** Class names of a split folder, sorted, so train and test agree on label indices. */
    public static List<String> classNames(Path splitDir) throws IOException {
        try (Stream<Path> s = Files.list(splitDir)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static BufferedImage load(Path p) throws IOException {
        BufferedImage img = ImageIO.read(p.toFile());
        if (img == null) throw new IOException(p + ": not a readable image");
        return img;
    }
}
