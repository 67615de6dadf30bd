package dev.goodput.trainer.data.text;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.goodput.api.spec.DataSpec;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.ExampleSet;
import dev.goodput.trainer.data.HostBatch;
import dev.goodput.trainer.data.Normalization;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Text data read as the trainer reads it: CSV by column name and folders per class, tokenized by the pretrained
 * model's own tokenizer (checked against its vocab.txt, where a token's id is its line number), stored padded and cut
 * per batch to the longest example. Uses the MiniLM files and Rotten Tomatoes snippets .ci/text-assets.sh installs.
 */
class TextDataTest {
    static final Path MODEL = Path.of("..", "goodput-data", "all-minilm-l6-v2");
    static final Path ROTTEN = Path.of("..", "goodput-data", "rotten-tomatoes");

    @TempDir
    Path dir;

    static int vocabId(String token) throws IOException {
        int id = Files.readAllLines(MODEL.resolve("vocab.txt")).indexOf(token);
        assertThat(id).as("%s in vocab.txt", token).isNotNegative();
        return id;
    }

    @Test
    void csvColumnsAreFoundByNameAndQuotedFieldsKeepTheirCommasAndLineBreaks() throws IOException {
        Path csv = dir.resolve("train.csv");
        Files.writeString(csv, "id,review,sentiment\n1,\"Great, really great\",pos\n2,\"two\nlines \"\"quoted\"\"\",neg\n");
        TextCsvReader.Rows rows = TextCsvReader.read(csv, "review", "sentiment");
        assertThat(rows.texts()).containsExactly("Great, really great", "two\nlines \"quoted\"");
        assertThat(rows.labels()).containsExactly("pos", "neg");
        assertThatThrownBy(() -> TextCsvReader.read(csv, "text", "sentiment"))
                .hasMessageContaining("no column 'text' in the header [id, review, sentiment]")
                .hasMessageContaining("spec.data.text.textColumn");
    }

    @Test
    void idsAreThoseOfTheModelsVocabularyWithClsAndSepAndTruncationKeepsSep() throws IOException {
        try (TextTokenizer t = TextTokenizer.of(MODEL, 8)) {
            long[][] ids = t.encode(List.of("A great movie!", "one two three four five six seven eight nine"));
            assertThat(ids[0]).containsExactly(vocabId("[CLS]"), vocabId("a"), vocabId("great"), vocabId("movie"),
                    vocabId("!"), vocabId("[SEP]"));
            assertThat(ids[1]).hasSize(8);
            assertThat(ids[1][7]).isEqualTo(vocabId("[SEP]"));
            assertThat(ids[1][6]).isEqualTo(vocabId("six"));
            assertThat(t.padId()).isEqualTo(vocabId("[PAD]"));
        }
    }

    @Test
    void aBatchIsCutToItsLongestExampleRoundedToEightAndPaddedWithThePadId() throws IOException {
        DataSpec spec = textCsv(List.of("short one,a", "a much longer text with many more words than the first,b",
                "tiny,a"), 64, "longest");
        ExampleSet train = DataSource.load(spec, MODEL.toString()).train();
        assertThat(train.classes()).isEqualTo(2);
        assertThat(train.tokens().lengths()).containsExactly(4, 13, 3);
        BatchAssembler assembler = new BatchAssembler(train, Normalization.of(train), null, 1);
        HostBatch shortOnes = assembler.assemble(new int[] {0, 2}, 0, 2, 0, true);
        assertThat(shortOnes.x()).hasSize(2 * 8);
        assertThat(shortOnes.x()[0]).isEqualTo(vocabId("[CLS]"));
        assertThat(shortOnes.x()[4]).as("padding after [SEP]").isEqualTo(0f);
        assertThat(shortOnes.y()).containsExactly(0, 0);
        HostBatch all = assembler.assemble(null, 0, 3, 0, true);
        assertThat(all.x()).hasSize(3 * 16);
        // Token ids pass through unnormalised.
        assertThat(all.x()[16 + 1]).isEqualTo(vocabId("a"));
        // A probe sees the widest batch the run can meet, whichever examples it draws.
        HostBatch widest = new BatchAssembler(train.atWidestBatches(), Normalization.of(train), null, 1)
                .assemble(new int[] {0, 2}, 0, 2, 0, true);
        assertThat(widest.x()).hasSize(2 * 16);
        DataSpec fixed = textCsv(List.of("short one,a", "tiny,b"), 64, "max");
        HostBatch full = new BatchAssembler(DataSource.load(fixed, MODEL.toString()).train(), null, null, 1)
                .assemble(null, 0, 2, 0, false);
        assertThat(full.x()).hasSize(2 * 64);
    }

    @Test
    void aTestLabelTheTrainingSplitLacksIsRefusedNamingIt() throws IOException {
        DataSpec spec = textCsv(List.of("good,fresh", "bad,rotten"), 32, null);
        Files.writeString(Path.of(spec.path, "test.csv"), "text,label\nmeh,lukewarm\n");
        assertThatThrownBy(() -> DataSource.load(spec, MODEL.toString()))
                .hasMessageContaining("label 'lukewarm' of example 1 is not among the training split's classes [fresh, rotten]");
    }

    @Test
    void aFolderPerClassReadsOneExamplePerTextFile() throws IOException {
        for (String split : List.of("train", "test")) {
            Files.createDirectories(dir.resolve(split).resolve("sport"));
            Files.createDirectories(dir.resolve(split).resolve("business"));
            Files.writeString(dir.resolve(split).resolve("sport").resolve("1.txt"), "The match ended in a draw.");
            Files.writeString(dir.resolve(split).resolve("business").resolve("1.txt"), "Shares fell.");
            Files.writeString(dir.resolve(split).resolve("business").resolve("2.txt"), "Profits rose.");
        }
        DataSpec spec = new DataSpec();
        spec.format = "textfolder";
        spec.path = dir.toString();
        DataSource.Splits s = DataSource.load(spec, MODEL.toString());
        assertThat(s.train().size()).isEqualTo(3);
        assertThat(s.train().labels()).containsExactly(0, 0, 1);
        assertThat(s.train().classes()).isEqualTo(2);
    }

    @Test
    void rottenTomatoesLoadsWithTwoClassesFromTheInstalledSnippets() throws IOException {
        DataSpec spec = new DataSpec();
        spec.format = "textcsv";
        spec.path = ROTTEN.toString();
        DataSource.Splits s = DataSource.load(spec, MODEL.toString());
        assertThat(s.train().size()).isGreaterThan(10_000);
        assertThat(s.test().size()).isGreaterThan(2_000);
        assertThat(s.train().classes()).isEqualTo(2);
        assertThat(s.train().width()).isEqualTo(128);
        // Most snippets are far shorter than 128 tokens, which is why batches are cut to their longest.
        double mean = java.util.Arrays.stream(s.train().tokens().lengths()).average().orElseThrow();
        assertThat(mean).isBetween(15.0, 60.0);
    }

    @Test
    void textWithoutATextModelIsRefusedNamingWhatToSet() throws IOException {
        DataSpec spec = textCsv(List.of("good,fresh"), 32, null);
        assertThatThrownBy(() -> DataSource.load(spec)).hasMessageContaining("use architecture bert-classifier");
    }

    private DataSpec textCsv(List<String> rows, int maxLength, String padding) throws IOException {
        Path data = Files.createDirectories(dir.resolve("csv"));
        String body = "text,label\n" + String.join("\n", rows) + "\n";
        Files.writeString(data.resolve("train.csv"), body);
        Files.writeString(data.resolve("test.csv"), body);
        DataSpec spec = new DataSpec();
        spec.format = "textcsv";
        spec.path = data.toString();
        spec.text = new DataSpec.TextSpec();
        spec.text.maxLength = maxLength;
        spec.text.padding = padding;
        return spec;
    }
}
