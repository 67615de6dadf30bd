package dev.goodput.trainer.report;

import dev.goodput.trainer.checkpoint.TrainingState;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.text.DecimalFormat;
import java.text.NumberFormat;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.ToDoubleFunction;
import javax.imageio.ImageIO;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.Marker;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StackedBarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.title.TextTitle;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.RectangleInsets;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * The run report's charts, drawn with JFreeChart. Time charts share one x axis (training time, in a unit that suits
 * the run's length) and carry the checkpoints as dashed vertical lines; targets are red horizontal lines.
 */
public final class RunReportCharts {
    public static final int WIDTH = 960;
    public static final int HEIGHT = 420;
    /** Rendered at twice the displayed size, so text stays sharp on high-density screens and when zoomed. */
    static final int SCALE = 2;

    private static final Color TRAIN_RAW = new Color(0x1f, 0x77, 0xb4, 90);
    private static final Color TRAIN = new Color(0x1f, 0x77, 0xb4);
    private static final Color TEST = new Color(0xff, 0x7f, 0x0e);
    private static final Color ACCURACY = new Color(0x2c, 0xa0, 0x2c);
    private static final Color THROUGHPUT = new Color(0x94, 0x67, 0xbd);
    private static final Color TARGET = new Color(0xd6, 0x27, 0x28);
    private static final Color CHECKPOINT = new Color(0x55, 0x55, 0x55);
    private static final Color RESUME = new Color(0x8c, 0x56, 0x4b);
    private static final Color BEFORE_RESUME = new Color(0xee, 0xee, 0xee);
    private static final Color DATA = new Color(0xd6, 0x27, 0x28);
    private static final Color COMPUTE = new Color(0x1f, 0x77, 0xb4);
    private static final Color OPTIMIZER = new Color(0x2c, 0xa0, 0x2c);
    private static final Stroke DASHED = new BasicStroke(1.2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
            new float[] {6, 4}, 0);
    private static final Stroke TARGET_STROKE = new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10,
            new float[] {10, 5}, 0);
    private static final Font MARKER_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    private static final int MAX_LABELLED_CHECKPOINTS = 8;

    /** A chart with the caption the report puts under it. */
    public record Chart(String id, String caption, JFreeChart chart, int height) {
        Chart(String id, String caption, JFreeChart chart) {
            this(id, caption, chart, HEIGHT);
        }

        public byte[] png() {
            return RunReportCharts.png(chart, WIDTH, height);
        }
    }

    private final RunReport r;
    private final TimeUnit unit;

    public RunReportCharts(RunReport report) {
        this.r = report;
        double end = report.trainingSeconds();
        for (TrainingState.Evaluation e : report.evaluations()) end = Math.max(end, e.trainingSeconds());
        this.unit = TimeUnit.forSpan(end);
    }

    /** Every chart of the report, in reading order. */
    public List<Chart> all() {
        List<Chart> charts = new ArrayList<>();
        charts.add(new Chart("loss-time", "Training loss per step and test loss at each evaluation, against training time.",
                lossVsTime()));
        charts.add(new Chart("accuracy-time", "Test accuracy at each evaluation against training time.", accuracyVsTime()));
        charts.add(new Chart("loss-samples", "The same losses against training examples seen.", lossVsSamples()));
        charts.add(new Chart("accuracy-samples", "Test accuracy against training examples seen.", accuracyVsSamples()));
        charts.add(new Chart("throughput", "Training throughput (moving average over recent steps).", throughput()));
        charts.add(new Chart("data-wait", "Share of step time spent waiting for the input pipeline (recent steps).",
                dataWait()));
        charts.add(new Chart("step-split", "Mean time of one optimizer step, split by phase.", stepSplit(), 300));
        return charts;
    }

    public JFreeChart lossVsTime() {
        XYSeriesCollection data = new XYSeriesCollection();
        addTrainingLoss(data, p -> unit.of(p.seconds()));
        data.addSeries(evaluationSeries("test loss", e -> unit.of(e.trainingSeconds()), TrainingState.Evaluation::loss));
        JFreeChart chart = xyChart("Loss vs training time", unit.axisLabel(), "loss (cross-entropy)", data);
        styleLoss(chart);
        if (r.target() != null && !r.target().isAccuracy()) targetLine(chart, r.target().value(), "target loss " + r.target().value());
        timeMarkers(chart, true);
        return chart;
    }

    public JFreeChart lossVsSamples() {
        XYSeriesCollection data = new XYSeriesCollection();
        addTrainingLoss(data, p -> (double) p.samples());
        data.addSeries(evaluationSeries("test loss", e -> (double) e.samples(), TrainingState.Evaluation::loss));
        JFreeChart chart = xyChart("Loss vs training examples seen", "training examples seen", "loss (cross-entropy)", data);
        styleLoss(chart);
        if (r.target() != null && !r.target().isAccuracy()) targetLine(chart, r.target().value(), "target loss " + r.target().value());
        resumeShading(chart, r.start().samples());
        return chart;
    }

    public JFreeChart accuracyVsTime() {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(evaluationSeries("test accuracy", e -> unit.of(e.trainingSeconds()), TrainingState.Evaluation::accuracy));
        JFreeChart chart = xyChart("Test accuracy vs training time", unit.axisLabel(), "test accuracy", data);
        styleAccuracy(chart);
        if (r.timeToTargetSeconds() != null) {
            reachedLine(chart, unit.of(r.timeToTargetSeconds()), "target reached at " + unit.format(r.timeToTargetSeconds()));
        }
        timeMarkers(chart, true);
        return chart;
    }

    public JFreeChart accuracyVsSamples() {
        XYSeriesCollection data = new XYSeriesCollection();
        data.addSeries(evaluationSeries("test accuracy", e -> (double) e.samples(), TrainingState.Evaluation::accuracy));
        JFreeChart chart = xyChart("Test accuracy vs training examples seen", "training examples seen", "test accuracy", data);
        styleAccuracy(chart);
        if (r.samplesToTarget() != null) {
            reachedLine(chart, r.samplesToTarget(), String.format(Locale.ROOT, "target reached at %,d examples", r.samplesToTarget()));
        }
        resumeShading(chart, r.start().samples());
        return chart;
    }

    public JFreeChart throughput() {
        XYSeries s = new XYSeries("samples/s", false, true);
        for (RunReport.Point p : r.series()) {
            if (!Double.isNaN(p.samplesPerSecond())) s.add(unit.of(p.seconds()), p.samplesPerSecond());
        }
        XYSeriesCollection data = new XYSeriesCollection(s);
        JFreeChart chart = xyChart("Throughput vs training time", unit.axisLabel(), "samples/s (training examples per second)", data);
        XYLineAndShapeRenderer renderer = lines(chart);
        renderer.setSeriesPaint(0, THROUGHPUT);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        ((NumberAxis) chart.getXYPlot().getRangeAxis()).setAutoRangeIncludesZero(true);
        double mean = r.meanSamplesPerSecond();
        if (mean > 0) {
            ValueMarker m = new ValueMarker(mean, THROUGHPUT, DASHED);
            label(m, String.format(Locale.ROOT, "job mean %,.0f samples/s", mean), RectangleAnchor.BOTTOM_RIGHT, TextAnchor.TOP_RIGHT);
            chart.getXYPlot().addRangeMarker(m);
        }
        timeMarkers(chart, true);
        return chart;
    }

    public JFreeChart dataWait() {
        XYSeries s = new XYSeries("data-wait share", false, true);
        for (RunReport.Point p : r.series()) {
            if (!Double.isNaN(p.dataWaitShare())) s.add(unit.of(p.seconds()), p.dataWaitShare());
        }
        JFreeChart chart = xyChart("Data-wait share vs training time", unit.axisLabel(), "share of step time waiting for data",
                new XYSeriesCollection(s));
        XYLineAndShapeRenderer renderer = lines(chart);
        renderer.setSeriesPaint(0, DATA);
        renderer.setSeriesStroke(0, new BasicStroke(2f));
        NumberAxis y = (NumberAxis) chart.getXYPlot().getRangeAxis();
        y.setNumberFormatOverride(NumberFormat.getPercentInstance(Locale.ROOT));
        double max = 0;
        for (RunReport.Point p : r.series()) if (!Double.isNaN(p.dataWaitShare())) max = Math.max(max, p.dataWaitShare());
        y.setRange(0, Math.min(1, Math.max(0.2, max * 1.15)));
        ValueMarker m = new ValueMarker(RunReport.INPUT_BOUND_SHARE, TARGET, TARGET_STROKE);
        label(m, "input-bound above 10%", RectangleAnchor.TOP_RIGHT, TextAnchor.BOTTOM_RIGHT);
        chart.getXYPlot().addRangeMarker(m);
        timeMarkers(chart, true);
        return chart;
    }

    public JFreeChart stepSplit() {
        RunReport.StepSplit split = r.split();
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double steps = Math.max(1, split.steps());
        String row = String.format(Locale.ROOT, "mean step (%,d steps)", split.steps());
        data.addValue(split.dataSeconds() * 1000 / steps, "data wait", row);
        data.addValue(split.computeSeconds() * 1000 / steps, "compute (forward + backward)", row);
        data.addValue(split.optimizerSeconds() * 1000 / steps, "optimizer update", row);
        JFreeChart chart = ChartFactory.createStackedBarChart("Step time split", null, "milliseconds per optimizer step",
                data, PlotOrientation.HORIZONTAL, true, false, false);
        style(chart);
        double total = Math.max(1e-12, split.totalSeconds());
        chart.addSubtitle(new TextTitle(String.format(Locale.ROOT,
                "data %.1f%% | compute %.1f%% | optimizer %.1f%% of %.1f s of steps in this process",
                split.dataSeconds() / total * 100, split.computeSeconds() / total * 100,
                split.optimizerSeconds() / total * 100, split.totalSeconds()), MARKER_FONT));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xdd, 0xdd, 0xdd));
        StackedBarRenderer renderer = (StackedBarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setMaximumBarWidth(0.45);
        renderer.setSeriesPaint(0, DATA);
        renderer.setSeriesPaint(1, COMPUTE);
        renderer.setSeriesPaint(2, OPTIMIZER);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2} ms", new DecimalFormat("0.0")));
        renderer.setDefaultItemLabelsVisible(true);
        renderer.setDefaultItemLabelPaint(Color.WHITE);
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
        return chart;
    }

    /** The chart as PNG bytes, drawn at {@link #SCALE} times {@code width} x {@code height}. */
    public static byte[] png(JFreeChart chart, int width, int height) {
        BufferedImage image = new BufferedImage(width * SCALE, height * SCALE, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.scale(SCALE, SCALE);
            chart.draw(g, new Rectangle2D.Double(0, 0, width, height));
        } finally {
            g.dispose();
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    // ---- building blocks ----

    private void addTrainingLoss(XYSeriesCollection data, ToDoubleFunction<RunReport.Point> x) {
        List<RunReport.Point> points = r.series();
        String per = r.stride() == 1 ? "per step" : "mean of " + r.stride() + " steps";
        XYSeries raw = new XYSeries("training loss (" + per + ")", false, true);
        for (RunReport.Point p : points) if (!Double.isNaN(p.loss())) raw.add(x.applyAsDouble(p), p.loss());
        int half = Math.max(1, points.size() / 40);
        XYSeries smooth = new XYSeries("training loss (moving average)", false, true);
        for (int i = 0; i < points.size(); i++) {
            double sum = 0;
            int n = 0;
            for (int j = Math.max(0, i - half); j <= Math.min(points.size() - 1, i + half); j++) {
                if (!Double.isNaN(points.get(j).loss())) {
                    sum += points.get(j).loss();
                    n++;
                }
            }
            if (n > 0) smooth.add(x.applyAsDouble(points.get(i)), sum / n);
        }
        data.addSeries(raw);
        data.addSeries(smooth);
    }

    private XYSeries evaluationSeries(String name, ToDoubleFunction<TrainingState.Evaluation> x,
                                      ToDoubleFunction<TrainingState.Evaluation> y) {
        XYSeries s = new XYSeries(name, false, true);
        for (TrainingState.Evaluation e : r.evaluations()) s.add(x.applyAsDouble(e), y.applyAsDouble(e));
        return s;
    }

    private JFreeChart xyChart(String title, String x, String y, XYSeriesCollection data) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false, false);
        style(chart);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdd, 0xdd, 0xdd));
        plot.setRangeGridlinePaint(new Color(0xdd, 0xdd, 0xdd));
        plot.setNoDataMessage("no data recorded");
        NumberAxis xAxis = (NumberAxis) plot.getDomainAxis();
        // From zero on every chart, so the time charts line up and a resumed run shows where it joined in.
        xAxis.setAutoRangeIncludesZero(true);
        if (x.startsWith("training examples")) xAxis.setNumberFormatOverride(NumberFormat.getIntegerInstance(Locale.ROOT));
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        return chart;
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 17));
        chart.setPadding(new RectangleInsets(6, 6, 6, 12));
    }

    private static XYLineAndShapeRenderer lines(JFreeChart chart) {
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        chart.getXYPlot().setRenderer(renderer);
        return renderer;
    }

    private static void styleLoss(JFreeChart chart) {
        XYLineAndShapeRenderer renderer = lines(chart);
        renderer.setSeriesPaint(0, TRAIN_RAW);
        renderer.setSeriesStroke(0, new BasicStroke(1f));
        renderer.setSeriesPaint(1, TRAIN);
        renderer.setSeriesStroke(1, new BasicStroke(2.5f));
        renderer.setSeriesPaint(2, TEST);
        renderer.setSeriesStroke(2, new BasicStroke(2f));
        renderer.setSeriesShapesVisible(2, true);
        renderer.setSeriesShape(2, new Ellipse2D.Double(-4, -4, 8, 8));
    }

    private void styleAccuracy(JFreeChart chart) {
        XYLineAndShapeRenderer renderer = lines(chart);
        renderer.setSeriesPaint(0, ACCURACY);
        renderer.setSeriesStroke(0, new BasicStroke(2.5f));
        renderer.setSeriesShapesVisible(0, true);
        renderer.setSeriesShape(0, new Ellipse2D.Double(-4, -4, 8, 8));
        NumberAxis y = (NumberAxis) chart.getXYPlot().getRangeAxis();
        y.setNumberFormatOverride(NumberFormat.getPercentInstance(Locale.ROOT));
        double lo = 1, hi = 0;
        for (TrainingState.Evaluation e : r.evaluations()) {
            lo = Math.min(lo, e.accuracy());
            hi = Math.max(hi, e.accuracy());
        }
        if (r.target() != null && r.target().isAccuracy()) {
            lo = Math.min(lo, r.target().value());
            hi = Math.max(hi, r.target().value());
            targetLine(chart, r.target().value(),
                    String.format(Locale.ROOT, "target %.1f%%", r.target().value() * 100));
        }
        if (lo <= hi) y.setRange(Math.max(0, lo - 0.05), Math.min(1, hi + 0.05));
    }

    private static void targetLine(JFreeChart chart, double value, String text) {
        ValueMarker m = new ValueMarker(value, TARGET, TARGET_STROKE);
        label(m, text, RectangleAnchor.TOP_LEFT, TextAnchor.BOTTOM_LEFT);
        chart.getXYPlot().addRangeMarker(m, Layer.FOREGROUND);
    }

    private static void reachedLine(JFreeChart chart, double x, String text) {
        ValueMarker m = new ValueMarker(x, TARGET, new BasicStroke(1.5f));
        label(m, text, RectangleAnchor.BOTTOM_LEFT, TextAnchor.BOTTOM_RIGHT);
        chart.getXYPlot().addDomainMarker(m, Layer.FOREGROUND);
    }

    /** Checkpoints as dashed vertical lines, and the part before a resume shaded. */
    private void timeMarkers(JFreeChart chart, boolean checkpoints) {
        resumeShading(chart, unit.of(r.start().trainingSeconds()));
        if (!checkpoints) return;
        boolean labelled = r.checkpoints().size() <= MAX_LABELLED_CHECKPOINTS;
        for (RunReport.Checkpoint c : r.checkpoints()) {
            ValueMarker m = new ValueMarker(unit.of(c.seconds()), c.resume() ? RESUME : CHECKPOINT,
                    c.resume() ? new BasicStroke(2f) : DASHED);
            if (labelled || c.resume()) {
                label(m, (c.resume() ? "resumed from step " : "checkpoint step ") + c.step(),
                        RectangleAnchor.TOP_LEFT, TextAnchor.TOP_RIGHT);
            }
            chart.getXYPlot().addDomainMarker(m, Layer.FOREGROUND);
        }
        List<String> legend = new ArrayList<>();
        long saved = r.checkpoints().stream().filter(c -> !c.resume()).count();
        if (saved > 0) legend.add("dashed lines: " + (labelled ? "checkpoints" : saved + " checkpoints"));
        if (r.start().resumed()) legend.add("solid brown line: resumed here; shaded: earlier attempts (restored history)");
        if (!legend.isEmpty()) chart.addSubtitle(new TextTitle(String.join("  |  ", legend), MARKER_FONT));
    }

    private void resumeShading(JFreeChart chart, double upTo) {
        if (!r.start().resumed() || upTo <= 0) return;
        IntervalMarker m = new IntervalMarker(Math.min(0, upTo), upTo, BEFORE_RESUME);
        label(m, "earlier attempts", RectangleAnchor.BOTTOM, TextAnchor.BOTTOM_CENTER);
        chart.getXYPlot().addDomainMarker(m, Layer.BACKGROUND);
    }

    private static void label(Marker m, String text, RectangleAnchor anchor, TextAnchor textAnchor) {
        m.setLabel(text);
        m.setLabelFont(MARKER_FONT);
        m.setLabelPaint(m.getPaint() instanceof Color c ? c.darker() : Color.DARK_GRAY);
        m.setLabelAnchor(anchor);
        m.setLabelTextAnchor(textAnchor);
        m.setLabelOffset(new RectangleInsets(4, 4, 4, 4));
        m.setLabelBackgroundColor(new Color(255, 255, 255, 215));
    }

    /** Seconds, minutes or hours on the time axis, whichever keeps its numbers short. */
    record TimeUnit(String name, double seconds) {
        static TimeUnit forSpan(double span) {
            if (span < 300) return new TimeUnit("s", 1);
            if (span < 5 * 3600) return new TimeUnit("min", 60);
            return new TimeUnit("h", 3600);
        }

        double of(double s) {
            return s / seconds;
        }

        String axisLabel() {
            return "training time (" + name + ")";
        }

        String format(double s) {
            double v = of(s);
            return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : "%.1f %s", v, name);
        }
    }

}
