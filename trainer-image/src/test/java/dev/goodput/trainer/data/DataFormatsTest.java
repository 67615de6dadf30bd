package dev.goodput.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.spec.DataSpec;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DataFormatsTest {

    @Test
    void readsCsvFeatureTables(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("train.csv"), "label,a,b\n0,1.5,2\n1,3,4.25\n2,0,0\n");
        Files.writeString(dir.resolve("test.csv"), "1,1,1\n");
        DataSpec spec = new DataSpec();
        spec.format = "csv";
        spec.path = dir.toString();
        DataSource.Splits s = DataSource.load(spec);
        assertThat(s.train().size()).isEqualTo(3);
        assertThat(s.train().width()).isEqualTo(2);
        assertThat(s.train().classes()).isEqualTo(3);
        assertThat(s.test().classes()).isEqualTo(3);
        assertThat(s.train().raw(1, 1)).isEqualTo(4.25f);
    }

    @Test
    void readsAFolderOfImagesByClass(@TempDir Path dir) throws Exception {
        for (String split : new String[] {"train", "test"}) {
            for (String cls : new String[] {"cat", "dog"}) {
                Files.createDirectories(dir.resolve(split).resolve(cls));
                BufferedImage img = new BufferedImage(4, 3, BufferedImage.TYPE_BYTE_GRAY);
                img.getRaster().setSample(1, 2, 0, cls.equals("dog") ? 200 : 10);
                ImageIO.write(img, "png", dir.resolve(split).resolve(cls).resolve("a.png").toFile());
            }
        }
        DataSpec spec = new DataSpec();
        spec.format = "imagefolder";
        spec.path = dir.toString();
        DataSource.Splits s = DataSource.load(spec);
        assertThat(s.train().size()).isEqualTo(2);
        assertThat(s.train().labels()).containsExactly(0, 1);
        assertThat(s.train().channels()).isEqualTo(1);
        assertThat(s.train().height()).isEqualTo(3);
        assertThat(s.train().pixels()[4 * 3 + 2 * 4 + 1] & 0xFF).isEqualTo(200);
    }

    @Test
    void epochOrderIsAPermutationFixedBySeedAndEpoch() {
        int[] a = EpochOrder.permutation(1, 0, 1000);
        assertThat(a).containsExactlyInAnyOrder(java.util.stream.IntStream.range(0, 1000).toArray());
        assertThat(EpochOrder.permutation(1, 0, 1000)).isEqualTo(a);
        assertThat(EpochOrder.permutation(1, 1, 1000)).isNotEqualTo(a);
        assertThat(EpochOrder.permutation(2, 0, 1000)).isNotEqualTo(a);
    }

    @Test
    void pipelineGivesTheSameBatchesWithAndWithoutWorkers() throws Exception {
        ExampleSet set = IdxReader.read(dev.goodput.trainer.TestJobs.FASHION_MNIST, "t10k").slice(640);
        DataSpec.AugmentSpec aug = new DataSpec.AugmentSpec();
        aug.randomCropPadding = 2;
        aug.horizontalFlip = true;
        BatchAssembler asm = new BatchAssembler(set, Normalization.of(set), aug, 3);
        try (BatchPipeline serial = new BatchPipeline(asm, 3, 32, 2, DataPosition.START, 0, 0);
             BatchPipeline parallel = new BatchPipeline(asm, 3, 32, 2, DataPosition.START, 2, 3)) {
            for (int i = 0; i < 45; i++) { // crosses two epoch boundaries (10 micro-batches per epoch)
                BatchPipeline.Loaded a = serial.next();
                BatchPipeline.Loaded b = parallel.next();
                assertThat(b.batch().x()).isEqualTo(a.batch().x());
                assertThat(b.batch().y()).isEqualTo(a.batch().y());
                assertThat(b.next()).isEqualTo(a.next());
                assertThat(a.stepEnd()).isEqualTo(i % 2 == 1);
            }
        }
    }

    @Test
    void pipelineResumedMidEpochContinuesTheSameSequence() throws Exception {
        ExampleSet set = IdxReader.read(dev.goodput.trainer.TestJobs.FASHION_MNIST, "t10k").slice(300);
        BatchAssembler asm = new BatchAssembler(set, Normalization.of(set), null, 5);
        DataPosition resumeAt = null;
        float[] expected = null;
        try (BatchPipeline p = new BatchPipeline(asm, 5, 50, 1, DataPosition.START, 1, 2)) {
            for (int i = 0; i < 9; i++) {
                BatchPipeline.Loaded l = p.next();
                if (i == 6) resumeAt = l.next();
                if (i == 7) expected = l.batch().x();
            }
        }
        assertThat(resumeAt).isEqualTo(new DataPosition(1, 50));
        try (BatchPipeline p = new BatchPipeline(asm, 5, 50, 1, resumeAt, 1, 2)) {
            assertThat(p.next().batch().x()).isEqualTo(expected);
        }
    }
}
