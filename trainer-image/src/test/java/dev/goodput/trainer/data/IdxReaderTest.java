package dev.goodput.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goodput.trainer.TestJobs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

    @Test
    void readsTheRealFashionMnistFiles() throws Exception {
        ExampleSet train = IdxReader.read(TestJobs.FASHION_MNIST, "train");
        ExampleSet test = IdxReader.read(TestJobs.FASHION_MNIST, "t10k");

        assertThat(train.size()).isEqualTo(60_000);
        assertThat(test.size()).isEqualTo(10_000);
        assertThat(train.height()).isEqualTo(28);
        assertThat(train.width()).isEqualTo(28);
        assertThat(train.classes()).isEqualTo(10);
        assertThat(Arrays.stream(train.labels()).min().getAsInt()).isZero();
        assertThat(Arrays.stream(train.labels()).max().getAsInt()).isEqualTo(9);
        // Fashion-MNIST's training split is balanced: 6,000 examples per class.
        int[] counts = new int[10];
        for (int y : train.labels()) counts[y]++;
        assertThat(counts).containsOnly(6_000);
        assertThat(Arrays.copyOf(train.labels(), 5)).containsExactly(9, 0, 0, 3, 0);
        // SHA-256 of the first image's 784 bytes, computed independently with Python's gzip and hashlib.
        assertThat(sha256(Arrays.copyOf(train.pixels(), 784)))
                .isEqualTo("5bd44e331a6d6998daf675700cd0c13dcd7af8ab954b7585124124da61459e7b");
        assertThat(sha256(Arrays.copyOf(test.pixels(), 784)))
                .isEqualTo("ffc7351ed0f8bae542820866086177fa4e0b366b97bf9d998dffdb8dbe138787");
    }

    @Test
    void refusesAFileThatIsNotIdx(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("train-images-idx3-ubyte"), new byte[] {1, 2, 3, 4, 0, 0, 0, 0});
        Files.write(dir.resolve("train-labels-idx1-ubyte"), new byte[] {0, 0, 8, 1, 0, 0, 0, 0});
        assertThatThrownBy(() -> IdxReader.read(dir, "train")).hasMessageContaining("not an IDX image file");
    }

    @Test
    void namesTheMissingFile(@TempDir Path dir) {
        assertThatThrownBy(() -> IdxReader.read(dir, "train"))
                .hasMessageContaining("spec.data.path").hasMessageContaining("train-images-idx3-ubyte");
    }

    private static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }
}
