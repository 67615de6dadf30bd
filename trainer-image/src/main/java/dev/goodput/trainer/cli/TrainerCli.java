package dev.goodput.trainer.cli;

import dev.goodput.trainer.runtime.NativeHeap;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The trainer's command line: {@code trainer run JOB.yaml} trains, {@code trainer validate JOB.yaml} only checks,
 * {@code trainer report DIR} renders a run's report, {@code trainer bench} times the step.
 */
@Command(name = "trainer", mixinStandardHelpOptions = true, version = "goodput trainer 0.1.0",
        description = "Runs a Goodput TrainingJob: inside its pod on a cluster, or alone on a laptop.",
        subcommands = {RunCommand.class, ValidateCommand.class, ReportCommand.class, BenchCommand.class})
public final class TrainerCli implements Runnable {

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }

    public static void main(String[] args) {
        // The trainer never downloads anything: libtorch ships in the jar (or the image), models are built here.
        if (System.getProperty("ai.djl.offline") == null) System.setProperty("ai.djl.offline", "true");
        NativeHeap.retainFreedMemory();
        System.exit(new CommandLine(new TrainerCli()).execute(args));
    }
}
