package dev.goodput.trainer.console;

import dev.goodput.api.status.Progress;
import dev.goodput.api.status.TrainerReport;
import dev.goodput.trainer.loop.ProgressListener;
import java.io.PrintStream;
import java.util.Locale;

/**
 * Progress for people. On a terminal: one redrawn line with a bar, step, epoch, samples/s, loss, accuracy and ETA.
 * Elsewhere (a pod's log, CI): the same facts as a log line every {@code logEverySeconds}.
 */
public final class ConsoleProgress implements ProgressListener {
    private static final int WIDTH = 28;
    private final PrintStream out;
    private final boolean bar;
    private final double logEverySeconds;
    private long lastPrint;
    private Double lastAccuracy;

    public ConsoleProgress(PrintStream out, boolean bar, double logEverySeconds) {
        this.out = out;
        this.bar = bar;
        this.logEverySeconds = logEverySeconds;
    }

    @Override
    public void onStep(TrainerReport r) {
        long now = System.nanoTime();
        double every = bar ? 0.25 : logEverySeconds;
        if ((now - lastPrint) / 1e9 < every) return;
        lastPrint = now;
        if (bar) {
            out.print("\r" + line(r) + "\u001b[K");
            out.flush();
        } else {
            out.println(line(r));
        }
    }

    @Override
    public void onEvaluation(TrainerReport r, double accuracy, double loss, double seconds) {
        lastAccuracy = accuracy;
        String msg = String.format(Locale.ROOT, "eval  step %d  epoch %d  test accuracy %.4f  test loss %.4f  (%.1fs)",
                r.progress.step, r.progress.epoch, accuracy, loss, seconds);
        onMessage(msg);
    }

    @Override
    public void onMessage(String message) {
        if (bar) out.print("\r\u001b[K");
        out.println(message);
        out.flush();
    }

    @Override
    public void onFinish(TrainerReport r) {
        if (bar) {
            out.print("\r" + line(r) + "\u001b[K\n");
            out.flush();
        }
    }

    String line(TrainerReport r) {
        Progress p = r.progress;
        StringBuilder sb = new StringBuilder();
        if (p.totalSteps != null && p.totalSteps > 0) {
            double f = Math.min(1, (double) p.step / p.totalSteps);
            int filled = (int) Math.round(f * WIDTH);
            sb.append('[').append("=".repeat(filled)).append(filled < WIDTH ? ">" : "")
                    .append(" ".repeat(Math.max(0, WIDTH - filled - 1))).append("] ")
                    .append(String.format(Locale.ROOT, "%3.0f%% ", f * 100))
                    .append("step ").append(p.step).append('/').append(p.totalSteps);
        } else {
            sb.append("step ").append(p.step);
        }
        sb.append(" | epoch ").append(p.epoch + 1);
        if (p.samplesPerSecond != null) sb.append(String.format(Locale.ROOT, " | %,.0f samples/s", p.samplesPerSecond));
        if (p.loss != null) sb.append(String.format(Locale.ROOT, " | loss %.4f", p.loss));
        if (lastAccuracy != null) sb.append(String.format(Locale.ROOT, " | acc %.4f", lastAccuracy));
        if (p.etaSeconds != null) sb.append(" | ETA ").append(Durations.human(p.etaSeconds));
        return sb.toString();
    }
}
