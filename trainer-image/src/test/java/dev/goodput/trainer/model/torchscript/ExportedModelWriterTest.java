package dev.goodput.trainer.model.torchscript;

import static org.assertj.core.api.Assertions.assertThat;

import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The exported model is the trained one: loaded again it has the trained parameters and buffers and gives the same
 * eval logits, and it trains on from there (the loader replaces the buffer accessor it carries).
 */
class ExportedModelWriterTest extends PyTorchManagerTest {
    @TempDir
    Path dir;

    @Test
    void theExportedModuleReloadsWithTheTrainedWeightsAndBuffers() throws Exception {
        UserModelRun run = new UserModelRun(manager);
        for (int s = 0; s < 3; s++) run.step(s);
        float[] trained = run.evalLogits(16);
        Path out = dir.resolve("model").resolve("trained.pt");
        ExportedModelWriter.write(run.model.block(), out);
        assertThat(out).isRegularFile();
        try (var files = Files.list(out.getParent())) {
            assertThat(files).containsExactly(out); // no temporary left behind
        }

        TorchScriptModel reloaded = TorchScriptLoader.load(out, manager, TorchScriptLoaderTest.ONE, 10);
        assertThat(run.logits(reloaded, 16)).isEqualTo(trained);
        assertThat(reloaded.buffers().names()).containsExactly(UserModels.BUFFERS);
        assertThat(reloaded.buffers().read().values()).containsExactlyElementsOf(run.model.buffers().read().values());
        var original = run.model.block().getParameters();
        for (Pair<String, Parameter> p : reloaded.block().getParameters()) {
            assertThat(p.getValue().getArray().toFloatArray()).as(p.getKey())
                    .isEqualTo(original.get(p.getKey()).getArray().toFloatArray());
        }

        // Written again over the same file: replaced whole.
        run.step(3);
        ExportedModelWriter.write(run.model.block(), out);
        TorchScriptModel again = TorchScriptLoader.load(out, manager, TorchScriptLoaderTest.ONE, 10);
        assertThat(run.logits(again, 16)).isEqualTo(run.evalLogits(16));

        // Fine-tuned further from the export: the same step as the run that wrote it would take, apart from the
        // optimizer's moments, which the export does not hold.
        UserModelRun further = new UserModelRun(manager, out, m -> {});
        assertThat(further.evalLogits(16)).isEqualTo(run.evalLogits(16));
        double loss = further.step(4);
        assertThat(loss).isFinite();
        assertThat(further.evalLogits(16)).isNotEqualTo(run.evalLogits(16));
    }
}
