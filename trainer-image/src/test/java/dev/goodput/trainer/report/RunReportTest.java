package dev.goodput.trainer.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.TestJobs;
import dev.goodput.trainer.TrainerProcess;
import dev.goodput.trainer.TrainerRun;
import dev.goodput.trainer.checkpoint.CheckpointStore;
import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.cost.AttemptLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The run report of real training runs on a Fashion-MNIST slice: finished with a target, resumed, and preempted. */
class RunReportTest {
    static final int CHARTS = 7;

    /** The test job with a target, a price and frequent checkpoints. */
    static String job(String trainingExtra, double target, int evalEvery, boolean price) {
        return TestJobs.yaml("mlp", 3200, trainingExtra).replace("lr: 0.002", "lr: 0.01").replace("  training:",
                "  target:\n    metric: accuracy\n    value: " + target + "\n    evalEverySteps: " + evalEvery + "\n"
                        + "  checkpoint:\n    interval: 1s\n"
                        + (price ? "  cost:\n    pricePerHour: 2.5\n" : "")
                        + "  training:");
    }

    @Test
    void finishedRunWritesASelfContainedReportWithChartsAndTimeAndCostToTarget(@TempDir Path dir) throws Exception {
        TrainerRun run = TestJobs.run(job("maxSteps: 200", 0.6, 20, true), dir, null);
        TrainerReport end = run.progress().report();
        assertThat(end.targetReached).as("an MLP passes 60% on Fashion-MNIST within 200 steps").isTrue();

        Path file = dir.resolve("job").resolve("report.html");
        ReportPage page = ReportPage.read(file);
        assertThat(page.html).doesNotContain("<script").doesNotContain("src=\"http").doesNotContain("href=\"http");
        ReportPage.assertCharts(page.images(), CHARTS);

        double accuracy = run.outcome().finalEvaluation().accuracy();
        assertThat(page.row("summary", "result")).isEqualTo("target reached");
        assertThat(page.row("summary", "test accuracy")).isEqualTo(String.format(Locale.ROOT, "%.4f", accuracy));
        assertThat(page.row("summary", "time to target")).isEqualTo(RunReportWriter.time(end.trainingTimeToTargetSeconds));
        assertThat(page.row("to-target", "time to target")).isEqualTo(RunReportWriter.time(end.trainingTimeToTargetSeconds));
        assertThat(page.row("to-target", "samples to target")).isEqualTo(String.format(Locale.ROOT, "%,d", end.samplesToTarget));
        assertThat(page.row("to-target", "at step")).isEqualTo(String.valueOf(end.progress.step));
        // Cost counts the attempts as the final snapshot recorded them: here one process, which reached the target, billed
        // for its uptime (in this test JVM, all of it) at $2.50/h. Cost to target is then all of that attempt.
        RunReport data = RunReportData.read(dir.resolve("job"));
        assertThat(data.attempts()).hasSize(1);
        AttemptLog.Attempt attempt = data.attempts().get(0);
        assertThat(attempt.reachedTarget()).isTrue();
        assertThat(attempt.pricePerHour()).isEqualTo(2.5);
        assertThat(attempt.billedSeconds()).as("the process held its machine at least while it trained")
                .isGreaterThanOrEqualTo(end.trainingTimeToTargetSeconds);
        assertThat(page.row("to-target", "cost to target")).isEqualTo(RunReportWriter.money(2.5 * attempt.billedSeconds() / 3600))
                .isEqualTo(page.row("summary", "cost to target")).matches("\\$\\d+\\.\\d+");
        assertThat(page.row("summary", "cost")).isEqualTo(RunReportWriter.money(2.5 * attempt.billedSeconds() / 3600)
                + " (machine time of 1 attempt at $2.50/h)");
        assertThat(page.row("to-target", "what cost counts")).contains("up to its last checkpoint")
                .contains("the operator's figure");
        // The final checkpoint records the same attempt (at the same or an earlier snapshot of its step).
        TrainingState saved = new CheckpointStore(dir.resolve("job"), 3).loadLatest().orElseThrow().snapshot().state();
        AttemptLog.Attempt checkpointed = new ObjectMapper().treeToValue(saved.components().get(AttemptLog.KEY.name()),
                AttemptLog.State.class).attempts().get(0);
        assertThat(checkpointed.pricePerHour()).isEqualTo(2.5);
        assertThat(checkpointed.billedSeconds()).isPositive().isLessThanOrEqualTo(attempt.billedSeconds());
        assertThat(page.row("summary", "bottleneck")).isIn("compute-bound", "input-bound (data wait > 10% of step time)");
        // Every evaluation of the run, and the final checkpoint (the step the run stopped at) among the marks.
        assertThat(page.column("evaluations")).containsExactlyElementsOf(
                run.progress().history().stream().map(e -> String.valueOf(e.step())).toList());
        assertThat(page.column("checkpoints")).contains(String.valueOf(end.lastCheckpoint.step))
                .contains(String.valueOf(end.progress.step));
        assertThat(page.text("//figure[@id='accuracy-time']/img/@alt")).isEqualTo("Test accuracy vs training time");
        Files.createDirectories(RunReportListenerTest.SAMPLES);
        Files.copy(file, RunReportListenerTest.SAMPLES.resolve("finished-report.html"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void trainerReportRendersThePageAgainFromTheDataTheRunLeft(@TempDir Path dir) throws Exception {
        TestJobs.run(job("maxSteps: 60", 0.99, 20, true), dir, null);
        Path job = dir.resolve("job");
        ReportPage original = ReportPage.read(job.resolve("report.html"));
        assertThat(job.resolve(RunReportData.FILE_NAME)).isRegularFile();
        Files.delete(job.resolve("report.html"));

        // Another process's work, here through the same command line: nothing of the run is in memory any more.
        int exit = new picocli.CommandLine(new dev.goodput.trainer.cli.TrainerCli()).execute("report", job.toString());
        assertThat(exit).isZero();
        ReportPage page = ReportPage.read(job.resolve("report.html"));
        ReportPage.assertCharts(page.images(), CHARTS);
        for (String row : new String[] {"result", "test accuracy", "steps", "time to target", "cost"}) {
            assertThat(page.row("summary", row)).as(row).isEqualTo(original.row("summary", row));
        }
        assertThat(page.column("evaluations")).containsExactlyElementsOf(original.column("evaluations"));
        assertThat(page.column("checkpoints")).containsExactlyElementsOf(original.column("checkpoints"));

        java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
        java.io.PrintStream was = System.err;
        System.setErr(new java.io.PrintStream(err));
        try {
            int missing = new picocli.CommandLine(new dev.goodput.trainer.cli.TrainerCli()).execute("report", dir.resolve("none").toString());
            assertThat(missing).isEqualTo(ExitCodes.FAILED);
        } finally {
            System.setErr(was);
        }
        assertThat(err.toString()).contains("report-data.json").contains("no run report data");
    }

    @Test
    void resumedRunReportsItsOwnStepsPlusTheRestoredEvaluationHistory(@TempDir Path dir) throws Exception {
        // An unreachable target: evaluations every 20 steps, the run goes to its budget.
        TestJobs.run(job("maxSteps: 40", 0.99, 20, false), dir, null);
        TrainerRun second = TestJobs.run(job("maxSteps: 80", 0.99, 20, false), dir, null);
        assertThat(second.progress().resumedFrom()).isEqualTo(40L);

        ReportPage page = ReportPage.read(dir.resolve("job").resolve("report.html"));
        ReportPage.assertCharts(page.images(), CHARTS);
        assertThat(page.text("//p[@class='note']")).contains("resumed from the checkpoint at step 40")
                .contains("steps 41 to 80").contains("restored from the checkpoint (2 evaluations");
        assertThat(page.column("evaluations")).containsExactly("20", "40", "60", "80");
        assertThat(page.all("//table[@id='evaluations']/tr[@class='restored']")).hasSize(2);
        assertThat(page.text("//table[@id='checkpoints']/tr[td[1]='40']/td[5]")).isEqualTo("resumed from");
        assertThat(page.text("//table[@id='checkpoints']/tr[td[1]='80']/td[5]")).isEqualTo("saved");
        assertThat(page.row("summary", "time to target")).isEqualTo("not reached");
        assertThat(page.row("summary", "cost")).isEqualTo("no price set");
        assertThat(page.row("to-target", "best so far")).matches("0\\.\\d{4}");
        // Both processes are recorded, the first restored from the checkpoint: the second's billed time is its own.
        RunReport data = RunReportData.read(dir.resolve("job"));
        assertThat(data.attempts()).hasSize(2).allMatch(a -> a.pricePerHour() == null && !a.reachedTarget());
        assertThat(data.cost()).isNull();
    }

    @Test
    void preemptedRunWritesItsReportBeforeExiting(@TempDir Path dir) throws Exception {
        Path manifest = Files.writeString(dir.resolve("job.yaml"), job("maxSteps: 1000000", 0.99, 50, true));
        Path checkpoints = dir.resolve("ckpt");
        Path term = dir.resolve("term.json");
        try (TrainerProcess p = TrainerProcess.start(manifest, checkpoints, term)) {
            await().atMost(Duration.ofSeconds(90)).until(() -> p.printed("checkpoint step"));
            // SIGTERM through the process handle: Process.destroy() would also close our end of its output.
            assertThat(ProcessHandle.of(p.pid()).map(ProcessHandle::destroy)).contains(true);
            assertThat(p.waitFor(60)).as(String.join("\n", p.lines())).isEqualTo(ExitCodes.PREEMPTED);
            // The output is read on another thread: give it a moment to catch up with the exited process.
            await().atMost(Duration.ofSeconds(10)).until(() -> p.printed("run report: ") || p.printed("run report not written"));
            assertThat(p.printed("run report: ")).as(String.join("\n", p.lines())).isTrue();
        }
        TrainerReport r = new ObjectMapper().readValue(term.toFile(), TrainerReport.class);
        ReportPage page = ReportPage.read(checkpoints.resolve("test-job").resolve("report.html"));
        ReportPage.assertCharts(page.images(), CHARTS);
        assertThat(page.text("//h1/span")).isEqualTo("Preempted");
        assertThat(page.text("//p[@class='note']")).contains("preempted").contains("step " + r.progress.step);
        assertThat(page.column("checkpoints")).contains(String.valueOf(r.lastCheckpoint.step));
        assertThat(page.row("summary", "result")).isEqualTo(r.message);
        assertThat(page.row("summary", "cost")).startsWith("$").contains("at $2.50/h");
    }
}
