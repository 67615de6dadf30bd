package dev.goodput.trainer.run;

import dev.goodput.api.ExitCodes;
import dev.goodput.api.status.TrainerPhase;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.checkpoint.CheckpointCoordinator;
import dev.goodput.trainer.config.TrainingPlan;
import dev.goodput.trainer.console.Durations;
import dev.goodput.trainer.cost.AttemptLog;
import dev.goodput.trainer.console.SummaryTable;
import dev.goodput.trainer.loop.RunProgress;
import dev.goodput.trainer.loop.TrainingLoop;
import dev.goodput.trainer.metrics.ProcessMemory;
import dev.goodput.trainer.metrics.TrainerMetrics;
import dev.goodput.trainer.preemption.PreemptionDetector;
import dev.goodput.trainer.report.RunReportListener;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;

/**
 * Maps the loop's outcome to the exit code and the reports. A run is only finished, or preempted, once its last step
 * is durable: a save that failed on SIGTERM, at the end, or repeatedly during the run exits
 * {@link ExitCodes#CHECKPOINT_FAILED}, never 0 or 75, so neither the operator nor a user mistakes lost work for a
 * clean stop.
 */
public final class RunConclusion {
    /** Grace left below which a preempted run skips its report (rendering the charts takes about 2 s). */
    static final Duration REPORT_GRACE = Duration.ofSeconds(8);

    /** Where the termination message and the run report go; no report dir: this process writes no report. */
    public record Destinations(Path terminationLog, Path reportDir) {}

    private final Destinations to;
    private final PrintStream out;
    private final PreemptionDetector preemption;
    private final RunProgress progress;
    private final TrainerMetrics metrics;
    private final RunReportListener runReport;
    private final AttemptLog attempts;

    public RunConclusion(Destinations to, PrintStream out, PreemptionDetector preemption, RunProgress progress,
                         TrainerMetrics metrics, RunReportListener runReport, AttemptLog attempts) {
        this.to = to;
        this.out = out;
        this.preemption = preemption;
        this.progress = progress;
        this.metrics = metrics;
        this.runReport = runReport;
        this.attempts = attempts;
    }

    /** The exit code, decided by what is durable; pure, so the rule can be read and tested apart from its effects. */
    public static int exitCode(TrainingLoop.Outcome outcome) {
        if (!outcome.checkpointed()) return ExitCodes.CHECKPOINT_FAILED;
        return outcome.reason() == TrainingLoop.Reason.PREEMPTED ? ExitCodes.PREEMPTED : ExitCodes.FINISHED;
    }

    public int conclude(TrainingLoop.Outcome outcome, TrainingPlan plan, CheckpointCoordinator checkpoints) {
        boolean preempted = outcome.reason() == TrainingLoop.Reason.PREEMPTED;
        boolean durable = outcome.checkpointed();
        int code = exitCode(outcome);
        TrainerReport r = progress.report();
        r.phase = !durable ? TrainerPhase.Failed : preempted ? TrainerPhase.Preempted : TrainerPhase.Succeeded;
        r.exitCode = code;
        r.peakMemoryBytes = ProcessMemory.peakResidentBytes();
        if (outcome.finalEvaluation() != null) {
            r.testAccuracy = outcome.finalEvaluation().accuracy();
            r.testLoss = outcome.finalEvaluation().loss();
        }
        String result = switch (outcome.reason()) {
            case TARGET_REACHED -> "target reached";
            case BUDGET_SPENT -> "budget spent";
            case PATIENCE_EXHAUSTED -> "stopped: no improvement within patience";
            case PREEMPTED -> "preempted (" + preemption.signalName() + "); checkpoint at step " + progress.step();
            case CHECKPOINTS_FAILING -> "stopped: " + CheckpointCoordinator.MAX_CONSECUTIVE_FAILURES + " checkpoint saves in a row failed";
        };
        r.message = durable ? result
                : outcome.reason() == TrainingLoop.Reason.CHECKPOINTS_FAILING ? result + "; " + checkpoints.lastError()
                : (preempted ? "preempted (" + preemption.signalName() + ")" : result) + ", but " + checkpoints.lastError();
        TerminationMessage.write(to.terminationLog(), r);
        // From here the exit code is decided: if the grace period runs out while the process winds down, it is still
        // this one, not 143, since the checkpoint it speaks of is already durable (or already known to have failed).
        preemption.settle(code);
        if (!preempted) printSummary(r, outcome, plan);
        out.println("goodput: " + r.message + "; exit " + code);
        // The report's data is written in any case (milliseconds). After SIGTERM its page is only rendered with time to
        // spare (a few seconds, more on a loaded node), else `trainer report` renders it later; should the grace
        // period end while it renders, the exit code is still the settled one.
        boolean time = !preempted || preemption.remaining().compareTo(REPORT_GRACE) > 0;
        if (to.reportDir() != null) runReport.writeTo(to.reportDir(), r, progress.history(), attempts.recorded(), metrics, time, out);
        return code;
    }

    private void printSummary(TrainerReport r, TrainingLoop.Outcome outcome, TrainingPlan plan) {
        double share = outcome.dataWaitShare();
        String bottleneck = share > 0.10 ? "input-bound (data wait > 10% of step time)" : "compute-bound";
        new SummaryTable()
                .row("result", r.message)
                .row("test accuracy", r.testAccuracy == null ? "-" : String.format(Locale.ROOT, "%.4f", r.testAccuracy))
                .row("test loss", r.testLoss == null ? "-" : String.format(Locale.ROOT, "%.4f", r.testLoss))
                .row("steps", String.valueOf(r.progress.step))
                .row("epochs", String.format(Locale.ROOT, "%.2f", (double) r.progress.samples / Math.max(1, plan.stepsPerEpoch() * plan.globalBatch())))
                .row("wall time (training)", Durations.human(r.trainingSeconds))
                .row("samples/s (mean)", String.format(Locale.ROOT, "%,.0f", r.progress.samples / Math.max(1e-9, r.trainingSeconds)))
                .row("time to target", r.trainingTimeToTargetSeconds == null ? "not reached" : Durations.human(r.trainingTimeToTargetSeconds))
                .row("data wait share", String.format(Locale.ROOT, "%.1f%%", share * 100))
                .row("peak memory (RSS)", String.format(Locale.ROOT, "%d MiB", r.peakMemoryBytes >> 20))
                .row("bottleneck", bottleneck)
                .row("last checkpoint", r.lastCheckpoint == null ? "-" : r.lastCheckpoint.path)
                .print(out);
    }
}
