package dev.goodput.trainer.report;

import dev.goodput.trainer.checkpoint.TrainingState;
import dev.goodput.trainer.console.Durations;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Locale;

/**
 * Writes a {@link RunReport} as one self-contained {@code report.html}: summary and time/cost-to-target tables, the
 * charts of {@link RunReportCharts} as base64-embedded PNGs, and the checkpoint and evaluation tables. No scripts, no
 * external files: it opens from a laptop's disk or a copied-out volume as it is. The markup is well-formed XML as well
 * as HTML, so any parser reads it.
 */
public final class RunReportWriter {
    public static final String FILE_NAME = "report.html";
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);

    private RunReportWriter() {}

    /** Writes {@code dir/report.html} (replacing the previous one at once) and returns its path. */
    public static Path write(RunReport report, Path dir) throws IOException {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
        Files.createDirectories(dir);
        Path file = dir.resolve(FILE_NAME);
        Path tmp = dir.resolve(FILE_NAME + ".tmp");
        try {
            Files.writeString(tmp, html(report), StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp); // a full disk must not keep what little room is left
            throw e;
        }
        return file;
    }

    /** The whole page. */
    public static String html(RunReport r) {
        StringBuilder h = new StringBuilder(1 << 20);
        String title = "Run report: " + r.jobName() + (r.model() == null ? "" : " (" + r.model() + ")");
        h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n")
                .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
                .append("<title>").append(esc(title)).append("</title>\n<style>\n").append(CSS).append("</style>\n</head>\n<body>\n");
        h.append("<h1>").append(esc(title)).append(" <span class=\"phase ").append(r.preempted() ? "preempted" : "done")
                .append("\">").append(esc(r.phase() == null ? "-" : r.phase())).append("</span></h1>\n");
        h.append("<p class=\"meta\">Written ").append(WHEN.format(r.writtenAt())).append(" by the Goodput trainer at step ")
                .append(r.steps()).append(".</p>\n");
        notes(h, r);

        h.append("<div class=\"tables\">\n<section>\n<h2>Summary</h2>\n<table class=\"summary\" id=\"summary\">\n");
        row(h, "result", r.result());
        row(h, "test accuracy", r.testAccuracy() == null ? "-" : fmt("%.4f", r.testAccuracy()));
        row(h, "test loss", r.testLoss() == null ? "-" : fmt("%.4f", r.testLoss()));
        row(h, "time to target", r.timeToTargetSeconds() == null ? notReached(r) : time(r.timeToTargetSeconds()));
        row(h, "samples to target", r.samplesToTarget() == null ? notReached(r) : fmt("%,d", r.samplesToTarget()));
        row(h, "cost", r.cost() == null ? noCost(r) : money(r.cost()) + " (" + attempts(r)
                + (r.pricePerHour() == null ? "" : " at " + money(r.pricePerHour()) + "/h") + ")");
        row(h, "cost to target", r.cost() == null ? noCost(r)
                : r.costToTarget() == null ? notReached(r) : money(r.costToTarget()));
        row(h, "training time", time(r.trainingSeconds()) + (r.start().resumed() ? " (all attempts)" : ""));
        row(h, "wall time", time(r.wallSeconds()) + " (this process, training start to report)");
        row(h, "steps / samples", fmt("%,d / %,d", r.steps(), r.samples()));
        row(h, "mean samples/s", fmt("%,.0f", r.meanSamplesPerSecond()));
        row(h, "data-wait share", fmt("%.1f%%", r.split().dataWaitShare() * 100));
        row(h, "bottleneck", r.inputBound() ? "input-bound (data wait > 10% of step time)" : "compute-bound");
        h.append("</table>\n</section>\n");
        targetTable(h, r);
        h.append("</div>\n");

        h.append("<h2>Charts</h2>\n");
        RunReportCharts charts = new RunReportCharts(r);
        for (RunReportCharts.Chart c : charts.all()) {
            h.append("<figure id=\"").append(c.id()).append("\">\n");
            try {
                byte[] png = c.png();
                h.append("<img alt=\"").append(esc(c.chart().getTitle().getText())).append("\" width=\"")
                        .append(RunReportCharts.WIDTH).append("\" src=\"data:image/png;base64,")
                        .append(Base64.getEncoder().encodeToString(png)).append("\"/>\n");
            } catch (RuntimeException | LinkageError | java.awt.AWTError | InternalError e) {
                // A slim image without fonts cannot draw text; the tables below still say everything.
                h.append("<p class=\"note\">Chart not drawn: ").append(esc(String.valueOf(e))).append("</p>\n");
            }
            h.append("<figcaption>").append(esc(c.caption())).append("</figcaption>\n</figure>\n");
        }

        checkpointTable(h, r);
        evaluationTable(h, r);
        h.append("<p class=\"meta\">Self-contained report: charts drawn with JFreeChart and embedded as PNG; nothing is loaded from elsewhere.</p>\n");
        h.append("</body>\n</html>\n");
        return h.toString();
    }

    /** Why there is no cost: no price, or (report data from before attempts were recorded) no attempts. */
    private static String noCost(RunReport r) {
        return r.pricePerHour() == null ? "no price set" : "no attempts recorded";
    }

    /** "machine time of 2 attempts": what the cost is of. */
    private static String attempts(RunReport r) {
        int n = r.attempts().size();
        return "machine time of " + n + " attempt" + (n == 1 ? "" : "s");
    }

    private static void notes(StringBuilder h, RunReport r) {
        if (r.start().resumed()) {
            h.append("<p class=\"note\">This process <b>resumed from the checkpoint at step ").append(r.start().step())
                    .append("</b> (").append(time(r.start().trainingSeconds())).append(" of training, ")
                    .append(fmt("%,d", r.start().samples())).append(" examples). The report covers this process's part, steps ")
                    .append(r.start().step() + 1).append(" to ").append(r.steps())
                    .append(" (training loss, samples/s, data wait, step split), plus the evaluation history restored from the checkpoint (")
                    .append(r.restoredEvaluations()).append(" evaluation").append(r.restoredEvaluations() == 1 ? "" : "s")
                    .append(" from earlier attempts). Earlier attempts are shaded on the charts.</p>\n");
        }
        if (r.preempted()) {
            h.append("<p class=\"note\">The run was <b>preempted</b> at step ").append(r.steps()).append(": ")
                    .append(esc(r.result())).append(". The next attempt resumes from that checkpoint and writes a new report.</p>\n");
        }
    }

    private static void targetTable(StringBuilder h, RunReport r) {
        h.append("<section>\n<h2>Time and cost to target</h2>\n<table class=\"summary\" id=\"to-target\">\n");
        if (r.target() == null) {
            row(h, "target", "none set (the job trains to its budget)");
        } else {
            RunReport.Target t = r.target();
            row(h, "target", t.isAccuracy() ? fmt("test accuracy &#8805; %.4f", t.value()) : fmt("test loss &#8804; %.4f", t.value()), true);
            row(h, "reached", r.targetReached() ? "yes" : "no");
            TrainingState.Evaluation at = null;
            for (TrainingState.Evaluation e : r.evaluations()) {
                if (r.samplesToTarget() != null && e.samples() == r.samplesToTarget()) {
                    at = e;
                    break;
                }
            }
            row(h, "at step", at == null ? "-" : String.valueOf(at.step()));
            row(h, "time to target", r.timeToTargetSeconds() == null ? "-" : time(r.timeToTargetSeconds()));
            row(h, "samples to target", r.samplesToTarget() == null ? "-" : fmt("%,d", r.samplesToTarget()));
            row(h, "cost to target", r.cost() == null ? noCost(r) : r.costToTarget() == null ? "-" : money(r.costToTarget()));
            if (!r.targetReached()) {
                Double best = null;
                for (TrainingState.Evaluation e : r.evaluations()) {
                    double v = t.isAccuracy() ? e.accuracy() : e.loss();
                    if (best == null || (t.isAccuracy() ? v > best : v < best)) best = v;
                }
                row(h, "best so far", best == null ? "-" : fmt("%.4f", best));
            }
        }
        row(h, "price", r.pricePerHour() == null ? "no price set (spec.cost.pricePerHour)" : money(r.pricePerHour()) + " per hour");
        row(h, "what cost counts", "each attempt's process uptime up to its last checkpoint, at its price; cost to target"
                + " counts every attempt up to the one that reached it. Time after an attempt's last checkpoint (after a"
                + " SIGKILL, say) and before its process started is not seen here: on a cluster the operator's figure,"
                + " from the pods' lifetimes by the same rule, is the authoritative one");
        h.append("</table>\n</section>\n");
    }

    private static void checkpointTable(StringBuilder h, RunReport r) {
        h.append("<h2>Checkpoints</h2>\n");
        if (r.checkpoints().isEmpty()) {
            h.append("<p>No checkpoint was written by this process.</p>\n");
            return;
        }
        h.append("<table class=\"list\" id=\"checkpoints\">\n<tr><th>step</th><th>training time</th><th>size</th><th>persist time</th><th></th></tr>\n");
        for (RunReport.Checkpoint c : r.checkpoints()) {
            h.append("<tr><td>").append(c.step()).append("</td><td>").append(time(c.seconds())).append("</td><td>")
                    .append(c.bytes() > 0 ? fmt("%.1f MB", c.bytes() / 1e6) : "-").append("</td><td>")
                    .append(c.saveSeconds() == null || c.bytes() == 0 ? "-" : fmt("%.0f ms", c.saveSeconds() * 1000))
                    .append("</td><td>").append(c.resume() ? "resumed from" : "saved").append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static void evaluationTable(StringBuilder h, RunReport r) {
        h.append("<h2>Evaluations</h2>\n");
        if (r.evaluations().isEmpty()) {
            h.append("<p>No evaluation yet.</p>\n");
            return;
        }
        h.append("<table class=\"list\" id=\"evaluations\">\n<tr><th>step</th><th>epoch</th><th>samples</th><th>training time</th>")
                .append("<th>test accuracy</th><th>test loss</th><th></th></tr>\n");
        for (TrainingState.Evaluation e : r.evaluations()) {
            boolean restored = r.start().resumed() && e.step() <= r.start().step();
            h.append("<tr").append(restored ? " class=\"restored\"" : "").append("><td>").append(e.step()).append("</td><td>")
                    .append(e.epoch() + 1).append("</td><td>").append(fmt("%,d", e.samples())).append("</td><td>")
                    .append(time(e.trainingSeconds())).append("</td><td>").append(fmt("%.4f", e.accuracy()))
                    .append("</td><td>").append(fmt("%.4f", e.loss())).append("</td><td>")
                    .append(restored ? "restored from checkpoint" : "").append("</td></tr>\n");
        }
        h.append("</table>\n");
    }

    private static String notReached(RunReport r) {
        return r.target() == null ? "no target set" : "not reached";
    }

    private static void row(StringBuilder h, String name, String value) {
        row(h, name, value, false);
    }

    private static void row(StringBuilder h, String name, String value, boolean markup) {
        h.append("<tr><th>").append(esc(name)).append("</th><td>").append(markup ? value : esc(value == null ? "-" : value))
                .append("</td></tr>\n");
    }

    static String time(double seconds) {
        if (seconds < 10) return fmt("%.2fs", seconds);
        return seconds < 60 ? fmt("%.1fs", seconds) : Durations.human(seconds) + fmt(" (%.0fs)", seconds);
    }

    static String money(double dollars) {
        if (dollars < 0.01) return fmt("$%.6f", dollars);
        return dollars < 1 ? fmt("$%.4f", dollars) : fmt("$%,.2f", dollars);
    }

    private static String fmt(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    static String esc(String s) {
        if (s == null) return "";
        StringBuilder b = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '&' -> b.append("&amp;");
                case '"' -> b.append("&quot;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    private static final String CSS = """
            body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px auto; max-width: 1000px; color: #222; padding: 0 12px; }
            h1 { font-size: 24px; margin-bottom: 4px; }
            h2 { font-size: 18px; margin-top: 28px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            .meta { color: #666; font-size: 13px; }
            .note { background: #fff8e1; border-left: 4px solid #f0b400; padding: 8px 12px; }
            .phase { font-size: 14px; padding: 2px 8px; border-radius: 4px; vertical-align: middle; }
            .phase.done { background: #e3f4e3; color: #1a6b1a; }
            .phase.preempted { background: #fdeaea; color: #9b1c1c; }
            .tables { display: flex; flex-wrap: wrap; gap: 32px; }
            table { border-collapse: collapse; font-size: 14px; }
            table.summary th { text-align: left; font-weight: normal; color: #555; padding: 3px 16px 3px 0; }
            table.summary td { font-weight: 600; padding: 3px 0; }
            table.list th, table.list td { border-bottom: 1px solid #eee; padding: 3px 12px; text-align: right; }
            table.list tr.restored { color: #777; }
            figure { margin: 20px 0; }
            figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
            figcaption { color: #555; font-size: 13px; }
            """;
}
