package dev.goodput.operator.harness;

import java.nio.file.Files;
import java.nio.file.Path;

/** Locates the repository root (the folder holding crds/ and the parent pom) from the test's working directory. */
public final class Repo {
    private Repo() {}

    public static Path root() {
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            if (Files.isDirectory(p.resolve("crds")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        throw new IllegalStateException("no crds/ folder above " + dir);
    }
}
