package dev.goodput.trainer.model.bert;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.ParameterStore;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.TrainingJobManifest;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.data.BatchAssembler;
import dev.goodput.trainer.data.DataSource;
import dev.goodput.trainer.data.Normalization;
import dev.goodput.trainer.export.ModelCard;
import dev.goodput.trainer.loop.Evaluator;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bert-classifier job with LoRA through the whole trainer (plan, assemble, fit, export) on a slice of the Rotten
 * Tomatoes snippets, and its exported folder read back as a plain classifier that scores the test slice as the run
 * did.
 */
class TextJobTest {
    @TempDir
    Path dir;

    /** Two micro-batches a step, dropout on: gradient checkpointing changes memory and time, not the trained model. */
    @Test
    void aJobWithGradientCheckpointingTrainsTheSameModelAsOneWithout() throws Exception {
        String[] sums = new String[2];
        for (int i = 0; i < 2; i++) {
            String yaml = TextJobs.yaml(64, "lora: {rank: 4}", "maxSteps: 3" + (i == 1 ? "\ngradientCheckpointing: true" : ""))
                    .replace("batchSize: \"16\"", "batchSize: \"8\"");
            TrainerRun run = new TrainerRun(TestJobs.settings(TestJobs.manifest(yaml), dir.resolve("run-" + i)),
                    new PrintStream(new ByteArrayOutputStream(), true));
            run.run();
            assertThat(run.progress().report().progress.step).isEqualTo(3);
            sums[i] = run.progress().report().model.sha256;
        }
        assertThat(sums[1]).isEqualTo(sums[0]);
    }

    @Test
    void aLoraJobTrainsOnTextAndItsExportedModelScoresTheTestSetAsTheRunDid() throws Exception {
        ByteArrayOutputStream console = new ByteArrayOutputStream();
        TrainingJobManifest m = TestJobs.manifest(TextJobs.yaml(128, "lora: {rank: 4}", "maxSteps: 8"));
        TrainerRun run = new TrainerRun(TestJobs.settings(m, dir), new PrintStream(console, true));
        run.run();
        String out = console.toString();
        TrainerReport r = run.progress().report();
        assertThat(r.progress.step).as(out).isEqualTo(8);
        assertThat(out).contains("data: 128 train / 64 test examples of texts of up to 64 tokens")
                .contains("model bert-classifier: 37,634 of 22,6").contains("parameters train (0.17%)");

        assertThat(r.model).as(out).isNotNull();
        assertThat(r.model.format).isEqualTo("safetensors");
        Path folder = Path.of(r.model.path);
        assertThat(folder.resolve("adapters.safetensors")).as("the adapters alone are small").satisfies(
                p -> assertThat(Files.size(p)).isLessThan(1 << 20));
        ModelCard card = new ObjectMapper().readValue(folder.resolve("model.json").toFile(), ModelCard.class);
        assertThat(card.base().sha256()).hasSize(64);
        assertThat(card.text().maxLength()).isEqualTo(64);

        Matcher last = Pattern.compile("eval  step 8 .*test accuracy ([0-9.]+)  test loss ([0-9.]+)").matcher(out);
        assertThat(last.find()).as(out).isTrue();
        // The folder is a Hugging Face model folder: adapters merged, head included. Read as a plain classifier (no
        // LoRA), with its own tokenizer, it scores the test slice as the run's final evaluation did.
        try (NDManager manager = NDManager.newBaseManager()) {
            DataSource.Splits data = DataSource.load(m.spec.data, folder.toString());
            BertClassifier plain = BertClassifier.pretrained(folder, 2, null, manager, 64);
            Evaluator.Result again = new Evaluator(new BatchAssembler(data.test(), Normalization.of(data.train()), null, 7), 16,
                    DataType.FLOAT32).evaluate(manager, plain, new ParameterStore(manager, false));
            assertThat(again.accuracy()).isEqualTo(Double.parseDouble(last.group(1)), org.assertj.core.data.Offset.offset(1e-4));
            assertThat(again.loss()).isEqualTo(Double.parseDouble(last.group(2)), org.assertj.core.data.Offset.offset(1e-4));
        }
    }
}
