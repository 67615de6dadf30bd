package dev.goodput.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;

import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.ManifestReader;
import dev.goodput.api.spec.TrainingJobSpec;
import dev.goodput.api.status.CheckpointRef;
import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.metrics.TrainerMetrics;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The listener and writer on a long scripted progress stream (no training): the series stays bounded, checkpoints land
 * at their step's time, and a preempted, resumed, loss-targeted, unpriced run still renders every chart.
 */
class RunReportListenerTest {
    static final Path SAMPLES = Path.of("target", "run-report-sample");

    static TrainingJobSpec spec(String extra) {
        return ManifestReader.parse(TestJobs.yaml("mlp", 3200, "maxSteps: 60000").replace("  training:", extra + "  training:"),
                "test.yaml").spec;
    }

    static TrainerReport report(long step, double seconds, CheckpointRef checkpoint) {
        TrainerReport r = new TrainerReport();
        r.phase = TrainerPhase.Running;
        r.progress = new Progress();
        r.progress.step = step;
        r.progress.samples = step * 64;
        r.progress.loss = 2.3 * Math.exp(-step / 8000.0) + 0.3 + 0.05 * Math.sin(step);
        r.progress.samplesPerSecond = 5000 + 500 * Math.sin(step / 3000.0);
        r.progress.dataWaitShare = 0.05 + 0.1 * Math.max(0, Math.sin(step / 5000.0));
        r.trainingSeconds = seconds;
        r.lastCheckpoint = checkpoint;
        return r;
    }

    static CheckpointRef checkpoint(long step, long bytes) {
        CheckpointRef c = new CheckpointRef();
        c.step = step;
        c.bytes = bytes;
        c.saveSeconds = 0.2;
        c.time = "t" + step + "-" + bytes;
        return c;
    }

    @Test
    void longPreemptedResumedRunStaysSmallAndRendersEveryChart(@TempDir Path dir) throws Exception {
        TrainingJobSpec spec = spec("  target:\n    metric: loss\n    value: 0.35\n    evalEverySteps: 2000\n");
        long from = 20_000;
        double secondsPerStep = 0.0125; // 60,000 steps: 500 s of training before the resume, 1,000 s after
        TrainerReport before = report(from, from * secondsPerStep, checkpoint(from, 0));
        before.resumedFromStep = from;
        RunReportListener listener = new RunReportListener(spec, "long-job", before);
        List<TrainingState.Evaluation> history = new ArrayList<>();
        for (long s = 2000; s <= from; s += 2000) history.add(evaluation(s, secondsPerStep));
        CheckpointRef last = before.lastCheckpoint;
        long end = 60_000;
        for (long step = from + 1; step <= end; step++) {
            // Saves every 2,500 steps, noticed 3 steps later (persisted in the background).
            if (step % 2500 == 3) last = checkpoint(step - 3, 4_000_000);
            listener.onStep(report(step, step * secondsPerStep, last));
            if (step % 2000 == 0) history.add(evaluation(step, secondsPerStep));
        }
        TrainerReport fin = report(end, end * secondsPerStep, checkpoint(end, 4_000_000));
        fin.phase = TrainerPhase.Preempted;
        fin.message = "preempted; checkpoint at step " + end;
        fin.resumedFromStep = from;
        listener.onFinish(fin);

        TrainerMetrics metrics = new TrainerMetrics();
        for (int i = 0; i < 100; i++) {
            metrics.stepSeconds.labelValues("data").observe(0.001);
            metrics.stepSeconds.labelValues("compute").observe(0.010);
            metrics.stepSeconds.labelValues("optimizer").observe(0.0015);
        }
        RunReport r = listener.report(fin, history, List.of(), metrics);
        assertThat(r.series()).hasSizeLessThanOrEqualTo(RunReportListener.MAX_POINTS).hasSizeGreaterThan(RunReportListener.MAX_POINTS / 4);
        assertThat(r.stride()).isGreaterThan(1);
        assertThat(r.series().get(r.series().size() - 1).step()).isEqualTo(end);
        assertThat(r.checkpoints()).hasSize(1 + 16 + 1);
        assertThat(r.checkpoints().get(0).resume()).isTrue();
        for (RunReport.Checkpoint c : r.checkpoints()) {
            // Placed at the time of the step it holds, not of the step at which it was noticed.
            assertThat(c.seconds()).isCloseTo(c.step() * secondsPerStep, org.assertj.core.data.Offset.offset(r.stride() * secondsPerStep));
        }
        assertThat(r.split().steps()).isEqualTo(100);
        assertThat(r.split().dataWaitShare()).isCloseTo(0.001 / 0.0125, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(r.restoredEvaluations()).isEqualTo(10);

        Path file = RunReportWriter.write(r, dir);
        ReportPage page = ReportPage.read(file);
        ReportPage.assertCharts(page.images(), RunReportTest.CHARTS);
        assertThat(page.row("summary", "cost")).isEqualTo("no price set");
        assertThat(page.row("to-target", "target")).isEqualTo("test loss ≤ 0.3500");
        assertThat(page.text("//h1/span")).isEqualTo("Preempted");
        assertThat(page.column("checkpoints")).hasSize(18).contains("20000", "22500", "60000");
        assertThat(page.all("//table[@id='evaluations']/tr[@class='restored']")).hasSize(10);
        assertThat(Files.size(file)).as("self-contained but not bloated").isLessThan(3_000_000);

        // Kept for a person to look at: target/run-report-sample/.
        Files.createDirectories(SAMPLES);
        Files.copy(file, SAMPLES.resolve("scripted-report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        for (RunReportCharts.Chart c : new RunReportCharts(r).all()) {
            byte[] png = c.png();
            BufferedImage image = ReportPage.decode(png);
            assertThat(image.getWidth()).isEqualTo(RunReportCharts.WIDTH * RunReportCharts.SCALE);
            Files.write(SAMPLES.resolve(c.id() + ".png"), png);
        }
    }

    @Test
    void writeToNeverFailsTheRun(@TempDir Path dir) throws Exception {
        TrainerReport start = report(0, 0, null);
        RunReportListener listener = new RunReportListener(spec(""), "job", start);
        Path blocked = Files.writeString(dir.resolve("a-file"), "not a folder");
        var out = new java.io.ByteArrayOutputStream();
        Path written = listener.writeTo(blocked, report(0, 0, null), List.of(), List.of(), null, true, new java.io.PrintStream(out));
        assertThat(written).isNull();
        assertThat(out.toString()).startsWith("run report not written: ");
    }

    static TrainingState.Evaluation evaluation(long step, double secondsPerStep) {
        double loss = 2.3 * Math.exp(-step / 9000.0) + 0.33;
        return new TrainingState.Evaluation(step, (int) (step / 50), step * 64, step * secondsPerStep,
                Math.min(0.92, 0.1 + 0.8 * (1 - Math.exp(-step / 6000.0))), loss);
    }

    static String fmt(String f, Object... a) {
        return String.format(Locale.ROOT, f, a);
    }
}
