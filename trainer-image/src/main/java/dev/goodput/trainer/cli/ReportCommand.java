package dev.goodput.trainer.cli;

import dev.goodput.api.ExitCodes;
import dev.goodput.trainer.report.RunReport;
import dev.goodput.trainer.report.RunReportData;
import dev.goodput.trainer.report.RunReportListener;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainer report <checkpoint-dir>}: renders the run report ({@code report.html}) from the data the last run
 * left beside its checkpoints ({@code report-data.json}), in this process rather than the training one.
 */
@Command(name = "report", description = "Renders the run report (report.html) of a job's checkpoint folder from the data its last run recorded.")
final class ReportCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CHECKPOINT-DIR", description = "The job's checkpoint folder, e.g. goodput-runs/checkpoints/<job>")
    Path dir;

    @Option(names = "--out", description = "Folder for report.html (default: the checkpoint folder)")
    Path out;

    @Override
    public Integer call() {
        RunReport report;
        try {
            report = RunReportData.read(dir);
        } catch (IOException e) {
            System.err.println("trainer report: " + (e.getMessage() == null ? e : e.getMessage()));
            return ExitCodes.FAILED;
        }
        return RunReportListener.render(report, out != null ? out : dir, System.out) == null ? ExitCodes.FAILED : ExitCodes.FINISHED;
    }
}
