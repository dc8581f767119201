package org.depthlens.report;

import org.depthlens.analysis.MetricRegistry;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapSeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.AxesChartStyler;
import org.knowm.xchart.style.HeatMapStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.lines.SeriesLines;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Builds the XChart charts of the report. Every builder plots the numbers it is given unchanged
 * (the normalised heatmap and expert shares are the only derived views, and say so in their titles);
 * one style for all charts: white background, light grid, SansSerif, model colours from
 * {@link Palette}.
 */
public final class Charts {
    public static final int WIDTH = 720;
    public static final int HEIGHT = 450;
    public static final int HEATMAP_HEIGHT = 520;

    static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    static final Font AXIS_TITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 14);
    static final Font TICK_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    static final Font LEGEND_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 13);
    static final Font NOTE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);

    private static final Marker[] MARKERS = {SeriesMarkers.CIRCLE, SeriesMarkers.SQUARE, SeriesMarkers.DIAMOND,
        SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN, SeriesMarkers.CROSS, SeriesMarkers.PLUS,
        SeriesMarkers.OVAL};

    static final String DEPTH_AXIS = "Depth l   (x[0] = embedding output, x[L] = last block output)";
    static final String BLOCK_AXIS = "Block l   (0-based; its input is x[l])";

    static {
        // charts are drawn off screen; never let AWT look for a display
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private Charts() {}

    /** Linear or logarithmic y axis. */
    public enum Scale { LINEAR, LOG }

    /**
     * One line of an XY chart; {@code y[i]} is plotted at {@code x[i]}; NaN is a gap. {@code lo}, {@code hi}: its 95 %
     * interval, drawn as a shaded band (null: none).
     */
    public record Line(String name, double[] x, double[] y, Color color, Marker marker, boolean dashed, double[] lo, double[] hi) {
        public Line(String name, double[] x, double[] y, Color color, Marker marker, boolean dashed) {
            this(name, x, y, color, marker, dashed, null, null);
        }

        /** This line with the interval {@code band} = {lo, hi} (null: unchanged). */
        public Line with(double[][] band) {
            return band == null ? this : new Line(name, x, y, color, marker, dashed, band[0], band[1]);
        }
    }

    /** {lo, hi} of metric {@code key} of a model (a vector, or a triangle's first column), or null without intervals. */
    static double[][] band(ReportModel m, String key) {
        var u = m.metrics().uncertainty();
        var b = u == null ? null : u.ci95().get(key);
        if (b == null) return null;
        if (b.rank() == 2) {
            double[] lo = new double[b.lo().length], hi = new double[b.lo().length];
            for (int i = 0; i < lo.length; i++) {
                lo[i] = b.lo()[i][0];
                hi[i] = b.hi()[i][0];
            }
            return new double[][] {lo, hi};
        }
        return new double[][] {b.lo0(), b.hi0()};
    }

    /** Marker of the model at {@code index}. */
    public static Marker marker(int index) {
        return MARKERS[Math.floorMod(index, MARKERS.length)];
    }

    // ------------------------------------------------------------------ generic builders

    /**
     * An XY line chart. On a log axis, values &lt;= 0 cannot be drawn: they become gaps and a corner
     * note lists them. {@code zoom} limits the y range to the bulk of the data and notes the values
     * left off scale (for one dominant block, e.g. block 0's loss drop).
     */
    public static XYChart lines(String title, String xTitle, String yTitle, List<Line> lines, Scale scale,
                                boolean zoom, boolean zeroLine, String xName) {
        XYChart c = new XYChart(WIDTH, HEIGHT);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(scale == Scale.LOG ? yTitle + "  (log scale)" : yTitle);
        XYStyler s = c.getStyler();
        style(s);
        s.setYAxisLogarithmic(scale == Scale.LOG);
        s.setXAxisDecimalPattern("#0");
        if (scale == Scale.LINEAR) {
            s.setyAxisTickLabelsFormattingFunction(Fmt::tick); // XChart's default prints ".05"
        }
        int maxPoints = lines.stream().mapToInt(l -> l.x().length).max().orElse(0);
        s.setMarkerSize(maxPoints > 48 ? 0 : 6);
        legend(s, lines.stream().map(Line::name).toList());
        s.setLegendVisible(lines.size() > 1); // one series: the axis title says it all
        List<String> notes = new ArrayList<>();
        double xMax = Double.NEGATIVE_INFINITY;
        for (Line line : lines) {
            double[] y = line.y().clone();
            List<String> missing = new ArrayList<>();
            for (int i = 0; i < y.length; i++) {
                if (!Double.isFinite(y[i])) {
                    // XChart cannot draw infinities and silently skips NaN: say which points are missing
                    missing.add(xName + " " + fmtX(line.x()[i]) + " = " + Fmt.sig(y[i], 3));
                    y[i] = Double.NaN;
                }
            }
            if (!missing.isEmpty()) {
                notes.add("not drawn" + (lines.size() > 1 ? " (" + line.name() + ")" : "") + ": "
                        + String.join(", ", missing));
            }
            if (scale == Scale.LOG) {
                List<String> dropped = new ArrayList<>();
                for (int i = 0; i < y.length; i++) {
                    if (!(y[i] > 0)) {
                        if (!Double.isNaN(y[i])) {
                            dropped.add(xName + " " + fmtX(line.x()[i]) + " = " + Fmt.sig(y[i], 3));
                        }
                        y[i] = Double.NaN;
                    }
                }
                if (!dropped.isEmpty()) {
                    notes.add("not on log scale (" + line.name() + "): " + String.join(", ", dropped));
                }
            }
            // trailing spaces separate the entries of a horizontal legend
            String legendName = s.getLegendLayout() == Styler.LegendLayout.Horizontal ? line.name() + "     " : line.name();
            XYSeries ser = c.addSeries(legendName, line.x(), y);
            ser.setLineColor(line.color());
            ser.setMarkerColor(line.color());
            ser.setMarker(maxPoints > 48 ? SeriesMarkers.NONE : line.marker());
            ser.setLineStyle(line.dashed()
                    ? new BasicStroke(2f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_ROUND, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            for (double x : line.x()) {
                xMax = Math.max(xMax, x);
            }
            if (line.lo() != null && line.hi() != null) {
                c.addAnnotation(new IntervalBand(line.x(), line.lo(), line.hi(), line.color(), scale == Scale.LOG));
            }
        }
        double yMaxShown = Double.NaN;
        if (scale == Scale.LOG) {
            // whole decades, so that both ends of the axis carry a labelled tick
            double lo = Double.POSITIVE_INFINITY;
            double hi = Double.NEGATIVE_INFINITY;
            for (XYSeries ser : c.getSeriesMap().values()) {
                for (double v : ser.getYData()) {
                    if (v > 0 && Double.isFinite(v)) {
                        lo = Math.min(lo, v);
                        hi = Math.max(hi, v);
                    }
                }
            }
            for (Line line : lines) { // the bands' positive ends too, so none is cut at the edge
                for (double[] band : new double[][] {line.lo(), line.hi()}) {
                    if (band == null) continue;
                    for (double v : band) {
                        if (v > 0 && Double.isFinite(v)) {
                            lo = Math.min(lo, v);
                            hi = Math.max(hi, v);
                        }
                    }
                }
            }
            if (lo <= hi) {
                // the 1e-12 slack keeps a value that is itself a power of ten inside the clip
                s.setYAxisMin(Math.pow(10, Math.floor(Math.log10(lo))) * (1 - 1e-12));
                yMaxShown = Math.pow(10, Math.ceil(Math.log10(hi))) * (1 + 1e-12);
                s.setYAxisMax(yMaxShown);
                if (lo >= 1e-6 && hi <= 1e6) {
                    s.setYAxisDecimalPattern("0.######"); // decade labels as 0.0001 .. 1000000, not 1E-4
                }
            }
        }
        if (zoom) {
            Zoom z = Zoom.of(lines);
            if (z != null) {
                s.setYAxisMin(z.min());
                s.setYAxisMax(z.max());
                yMaxShown = z.max();
                for (Line line : lines) {
                    for (int i = 0; i < line.y().length; i++) {
                        double v = line.y()[i];
                        if (Double.isFinite(v) && (v > z.max() || v < z.min())) {
                            notes.add("off scale: " + xName + " " + fmtX(line.x()[i]) + " = " + Fmt.sig(v, 3)
                                    + (lines.size() > 1 ? " (" + line.name() + ")" : ""));
                        }
                    }
                }
            }
        }
        if (scale == Scale.LINEAR && s.getYAxisMin() == null && s.getYAxisMax() == null) fitBands(s, lines, zeroLine);
        if (zeroLine) {
            AnnotationLine zero = new AnnotationLine(0, false, false);
            c.addAnnotation(zero);
            s.setAnnotationLineColor(new Color(0x777777));
            s.setAnnotationLineStroke(new BasicStroke(1f));
        }
        if (!notes.isEmpty()) {
            if (Double.isNaN(yMaxShown)) {
                yMaxShown = lines.stream().flatMapToDouble(l -> Arrays.stream(l.y()))
                        .filter(v -> Double.isFinite(v) && (scale == Scale.LINEAR || v > 0)).max().orElse(1);
            }
            c.addAnnotation(new CornerNote(notes, xMax, yMaxShown, NOTE_FONT));
        }
        return c;
    }

    /**
     * Widens a linear y axis that was not zoomed to hold the bands too, so a band is never cut at the edge of the lines
     * (an accuracy change of one item in eight has an interval several items wide); a zoomed chart keeps its range,
     * which leaves out dominant blocks on purpose. Without bands the axis stays XChart's own.
     */
    private static void fitBands(XYStyler s, List<Line> lines, boolean zeroLine) {
        double lo = zeroLine ? 0 : Double.POSITIVE_INFINITY, hi = zeroLine ? 0 : Double.NEGATIVE_INFINITY;
        boolean any = false;
        for (Line l : lines) {
            any |= l.lo() != null;
            for (double[] v : new double[][] {l.y(), l.lo(), l.hi()}) {
                if (v == null) continue;
                for (double x : v) {
                    if (!Double.isFinite(x)) continue;
                    lo = Math.min(lo, x);
                    hi = Math.max(hi, x);
                }
            }
        }
        if (!any || !(hi > lo)) return;
        double pad = 0.04 * (hi - lo);
        s.setYAxisMin(lo - pad);
        s.setYAxisMax(hi + pad);
    }

    /** The y range of a zoomed view: the values without up to 3 outliers that dwarf all others. */
    record Zoom(double min, double max) {
        static Zoom of(List<Line> lines) {
            List<Double> all = new ArrayList<>();
            for (Line l : lines) {
                for (double v : l.y()) {
                    if (Double.isFinite(v)) {
                        all.add(v);
                    }
                }
            }
            if (all.size() < 4) {
                return null;
            }
            double[] sorted = all.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            int n = sorted.length;
            // the smallest k such that the top k values each exceed 4x every remaining magnitude
            int cut = 0;
            for (int k = 1; k <= Math.min(3 * lines.size(), n / 4); k++) {
                double smallestCut = sorted[n - k];
                double rest = Math.max(Math.abs(sorted[n - k - 1]), Math.abs(sorted[0]));
                if (smallestCut > 0 && smallestCut > 4 * rest) {
                    cut = k;
                    break;
                }
            }
            if (cut == 0) {
                return null;
            }
            double hi = sorted[n - 1 - cut];
            double lo = Math.min(0, sorted[0]);
            double span = hi - lo;
            if (!(span > 0)) {
                return null;
            }
            return new Zoom(lo - 0.04 * span, hi + 0.22 * span);
        }
    }

    /**
     * A heatmap with x categories, y categories (y index 0 at the bottom) and cells
     * {@code {xIndex, yIndex, value}}; colours viridis over [min, max] (values outside are drawn at
     * the end colours; the range is chosen by the caller so that none is).
     */
    public static HeatMapChart heatmap(String title, String xTitle, String yTitle, List<String> xCats,
                                       List<String> yCats, List<Number[]> cells, double min, double max,
                                       String seriesName) {
        // the (int, int) constructor leaves the HeatMapStyler without a theme (null fonts, colours)
        HeatMapChart c = new HeatMapChart(WIDTH, HEATMAP_HEIGHT, Styler.ChartTheme.XChart);
        c.setTitle(title);
        c.setXAxisTitle(xTitle);
        c.setYAxisTitle(yTitle);
        HeatMapStyler s = c.getStyler();
        style(s);
        s.setPlotGridLinesVisible(false);
        s.setRangeColors(Palette.VIRIDIS.clone());
        s.setMin(min);
        s.setMax(max);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendLayout(Styler.LegendLayout.Vertical);
        s.setGradientColorColumnHeight(HEATMAP_HEIGHT - 200);
        s.setGradientColorColumnWeight(16);
        s.setPlotContentSize(1.0);
        s.setDrawBorder(true); // same-colour border: no anti-aliasing seams between cells
        s.setShowValue(false);
        if (cells.isEmpty()) {
            // XChart refuses an empty heatmap; one cell outside the axes is never drawn
            cells = List.<Number[]>of(new Number[] {xCats.size(), yCats.size(), min});
        }
        HeatMapSeries ser = c.addSeries(seriesName, xCats, yCats, cells);
        ser.setMin(min);
        ser.setMax(max);
        return c;
    }

    /** Category labels 0..count-1 (+offset), thinned to every k-th when there are many. */
    static List<String> categories(int count, int offset) {
        int step = count <= 32 ? 1 : count <= 64 ? 4 : count <= 128 ? 8 : 16;
        List<String> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int v = i + offset;
            // a blank label (never "", which java.awt.font.TextLayout rejects) hides all but every k-th
            out.add(v % step == 0 ? Integer.toString(v) : " ");
        }
        return out;
    }

    // ------------------------------------------------------------------ metric charts

    /** Angular-distance triangle: x = l (start), y = n (blocks spanned), cell (l, n) for l+n <= L. */
    public static HeatMapChart angular(String label, double[][] triangle, boolean lastToken, boolean rowNormalised,
                                       double rawMax) {
        int L = triangle.length;
        double[][] values = rowNormalised ? RowNormalization.normalize(triangle) : triangle;
        List<Number[]> cells = new ArrayList<>();
        for (int l = 0; l < L; l++) {
            for (int n = 1; n <= L - l; n++) {
                double v = values[l][n - 1];
                if (Double.isFinite(v)) {
                    cells.add(new Number[] {l, n - 1, v});
                }
            }
        }
        String which = lastToken ? "last token" : "all tokens";
        String title = label + ": angular distance, " + which + (rowNormalised ? " (row-normalised)" : "");
        String yTitle = "Span n (blocks between x[l] and x[l+n])";
        return heatmap(title, "Start depth l", yTitle, categories(L, 0), categories(L, 1), cells,
                0.0, rowNormalised ? 1.0 : rawMax, lastToken ? "angular_last" : "angular_all");
    }

    /**
     * One metric of every checkpoint of a trajectory as a heatmap, readable with many checkpoints where overlaid
     * lines are not: x = block (or depth for the variance), y = checkpoint in the order given (first at the bottom).
     * Block influence and variance span decades, so their colour is log10 of the value (cells with a value &lt;= 0
     * stay blank); the loss increase is linear, with the colour scale ending at the 95th percentile when the
     * largest values (usually block 0) would flatten everything else: those cells take the end colour.
     */
    static HeatMapChart trajectory(String titlePrefix, List<ReportModel> models, String what) {
        boolean depth = spec(what).shape() == MetricSpec.Shape.DEPTHS;
        boolean log = !what.equals("loss_drop");
        List<Number[]> cells = new ArrayList<>();
        List<Double> values = new ArrayList<>();
        int width = 0;
        for (int y = 0; y < models.size(); y++) {
            ReportModel m = models.get(y);
            double[] v = blockValues(m, what);
            if (v == null) continue;
            width = Math.max(width, v.length);
            for (int x = 0; x < v.length; x++) {
                double c = log ? (v[x] > 0 ? Math.log10(v[x]) : Double.NaN) : v[x];
                if (!Double.isFinite(c)) continue;
                cells.add(new Number[] {x, y, c});
                values.add(c);
            }
        }
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        double min = sorted.length == 0 ? 0 : sorted[0];
        double max = sorted.length == 0 ? 1 : sorted[sorted.length - 1];
        String clip = "";
        if (!log && sorted.length > 0) {
            min = Math.min(0, min);
            double p95 = sorted[(int) Math.floor(0.95 * (sorted.length - 1))];
            if (p95 > min && max - min > 2 * (p95 - min)) {
                clip = ", colours end at " + Fmt.sig(p95, 3);
                max = p95;
            }
        }
        if (!(max > min)) max = min + 1;
        List<String> yCats = new ArrayList<>();
        int step = models.size() <= 32 ? 1 : (models.size() + 31) / 32;
        for (int y = 0; y < models.size(); y++) {
            yCats.add(y % step == 0 || y == models.size() - 1 ? models.get(y).label() : " ".repeat(1 + y % 2));
        }
        String name = switch (what) {
            case "variance" -> "log10 variance of x[l]";
            case "block_influence" -> "log10 block influence";
            default -> "loss increase per removed block (nats/token" + clip + ")";
        };
        return heatmap(titlePrefix + name, depth ? "Depth l" : "Block l", "Checkpoint (first at the bottom)",
                categories(width, 0), yCats, cells, min, max, what);
    }

    /** The colour-scale maximum shared by all raw angular heatmaps: max over the models, rounded up to 0.05. */
    static double angularScaleMax(List<ReportModel> models) {
        double max = 0;
        for (ReportModel m : models) {
            for (double[][] t : new double[][][] {m.metrics().angularAll(), m.metrics().angularLast()}) {
                for (double[] row : t) {
                    for (double v : row) {
                        if (Double.isFinite(v)) {
                            max = Math.max(max, v);
                        }
                    }
                }
            }
        }
        double nice = Math.ceil(max / 0.05 - 1e-9) * 0.05;
        nice = Math.round(nice * 100) / 100.0;
        return Math.max(0.05, Math.min(1.0, nice));
    }

    /** Expert usage: x = expert, y = block, value = the expert's share of the block's routed slots. */
    public static HeatMapChart expertUsage(String label, List<long[]> usage) {
        int L = usage.size();
        int experts = usage.stream().filter(a -> a != null).mapToInt(a -> a.length).max().orElse(0);
        List<Number[]> cells = new ArrayList<>();
        double maxShare = 0;
        for (int l = 0; l < L; l++) {
            long[] counts = usage.get(l);
            if (counts == null) {
                continue;
            }
            long total = 0;
            for (long c : counts) {
                total += c;
            }
            for (int e = 0; e < counts.length; e++) {
                double share = total == 0 ? 0 : (double) counts[e] / total;
                maxShare = Math.max(maxShare, share);
                cells.add(new Number[] {e, l, share});
            }
        }
        double max = Math.min(1.0, Math.max(0.05, Math.ceil(maxShare / 0.05 - 1e-9) * 0.05));
        max = Math.round(max * 100) / 100.0;
        List<String> yCats = categories(L, 0);
        for (int l = 0; l < L; l++) {
            if (usage.get(l) == null && yCats.get(l).strip().length() > 0) {
                yCats.set(l, yCats.get(l) + " (dense)");
            }
        }
        return heatmap(label + ": expert usage (share of the block's routed tokens)", "Expert",
                "Block l  (dense blocks left blank)", categories(Math.max(experts, 1), 0), yCats, cells, 0.0, max,
                "expert_usage");
    }

    /** A residual-stream quantity over depth 0..L for one model. */
    static XYChart depthProfile(ReportModel m, String what, Scale scale) {
        Metrics x = m.metrics();
        double[] depth = range(0, x.blocks() + 1);
        List<Line> lines = new ArrayList<>();
        String title;
        String yTitle;
        if (what.equals("variance")) {
            lines.add(new Line("variance (all elements of x[l])", depth, x.variance(), m.color(),
                    SeriesMarkers.CIRCLE, false).with(band(m, "variance")));
            lines.add(new Line("token variance (mean over tokens of Var over d)", depth, x.tokenVariance(),
                    m.color(), SeriesMarkers.NONE, true).with(band(m, "token_variance")));
            title = m.label() + ": residual-stream variance vs depth";
            yTitle = "Variance of x[l]";
        } else {
            lines.add(new Line("rms = mean over tokens of |x[l]| / sqrt(d)", depth, x.rms(), m.color(),
                    SeriesMarkers.CIRCLE, false).with(band(m, "rms")));
            title = m.label() + ": residual-stream RMS vs depth";
            yTitle = "RMS of x[l]";
        }
        return lines(title, DEPTH_AXIS, yTitle, lines, scale, false, false, "depth");
    }

    /** The registered metric whose default chart is {@code what} ({@link MetricRegistry#ofChart}). */
    static MetricSpec spec(String what) {
        MetricSpec s = MetricRegistry.ofChart(what);
        if (s == null) throw new IllegalArgumentException("no metric has the chart " + what);
        return s;
    }

    /** A chart's values of one model (e.g. {@code block_influence}, {@code loss_drop}), or null when not measured. */
    static double[] blockValues(ReportModel m, String what) {
        return spec(what).vector(m.metrics());
    }

    static String blockTitle(String what) {
        return spec(what).chart().title();
    }

    static String blockYAxis(String what) {
        return spec(what).chart().yAxis();
    }

    /** One per-block (or per-depth) metric of one model. */
    static XYChart perBlock(ReportModel m, String what, Scale scale, boolean zoom) {
        double[] y = blockValues(m, what);
        boolean depth = spec(what).shape() == MetricSpec.Shape.DEPTHS;
        List<Line> lines = List.of(new Line(legendName(what), range(0, y.length), y, m.color(),
                SeriesMarkers.CIRCLE, false).with(band(m, bandKey(what))));
        String title = m.label() + ": " + blockTitle(what) + (zoom ? " (zoomed)" : "");
        return lines(title, depth ? DEPTH_AXIS : BLOCK_AXIS, blockYAxis(what), lines, scale, zoom, what.equals("loss_drop"),
                depth ? "depth" : "block");
    }

    /** The interval key of a chart's metric. */
    static String bandKey(String what) {
        return spec(what).key();
    }

    private static String legendName(String what) {
        return spec(what).chart().legend();
    }

    /** Several models on one chart, each in its own colour and marker. */
    static XYChart overlay(List<ReportModel> models, String what, Scale scale, boolean zoom, String titlePrefix,
                           List<Color> colours, boolean sameMarker) {
        List<Line> lines = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            ReportModel m = models.get(i);
            double[] y = blockValues(m, what);
            double[] x;
            if (y == null) {
                continue;
            }
            x = range(0, y.length);
            lines.add(new Line(m.label(), x, y, colours.get(i), sameMarker ? SeriesMarkers.CIRCLE : marker(m.index()),
                    false).with(band(m, bandKey(what))));
        }
        boolean depth = spec(what).shape() == MetricSpec.Shape.DEPTHS;
        String yTitle = blockYAxis(what);
        String name = blockTitle(what);
        String title = titlePrefix.isEmpty() ? Character.toUpperCase(name.charAt(0)) + name.substring(1)
                : titlePrefix + name;
        return lines(title + (zoom ? " (zoomed)" : ""), depth ? DEPTH_AXIS : BLOCK_AXIS, yTitle, lines,
                scale, zoom, what.equals("loss_drop"), depth ? "depth" : "block");
    }

    // ------------------------------------------------------------------ style

    static void style(AxesChartStyler s) {
        s.setLocale(Locale.ROOT);
        s.setAntiAlias(true);
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setPlotBorderVisible(true);
        s.setPlotBorderColor(new Color(0x888888));
        s.setPlotGridLinesVisible(true);
        s.setPlotGridLinesColor(new Color(0xE3E3E3));
        s.setPlotGridLinesStroke(new BasicStroke(1f));
        s.setChartTitleVisible(true);
        s.setChartTitleBoxVisible(false);
        s.setChartTitleFont(TITLE_FONT);
        s.setChartFontColor(new Color(0x222222));
        s.setAxisTitleFont(AXIS_TITLE_FONT);
        s.setAxisTickLabelsFont(TICK_FONT);
        s.setAxisTickLabelsColor(new Color(0x333333));
        s.setAxisTickMarksColor(new Color(0x888888));
        s.setLegendFont(LEGEND_FONT);
        s.setLegendBorderColor(Color.WHITE);
        s.setLegendBackgroundColor(Color.WHITE);
        s.setToolTipsEnabled(false);
        s.setChartPadding(12);
        s.setPlotMargin(0);
        s.setAnnotationTextFont(NOTE_FONT);
    }

    private static void legend(XYStyler s, List<String> names) {
        int chars = names.stream().mapToInt(String::length).sum() + 6 * names.size();
        if (chars <= 80) {
            s.setLegendPosition(Styler.LegendPosition.OutsideS);
            s.setLegendLayout(Styler.LegendLayout.Horizontal);
        } else {
            s.setLegendPosition(Styler.LegendPosition.OutsideS);
            s.setLegendLayout(Styler.LegendLayout.Vertical);
        }
        s.setLegendSeriesLineLength(28);
        s.setLegendPadding(8);
    }

    static double[] range(int from, int toExclusive) {
        double[] r = new double[toExclusive - from];
        for (int i = 0; i < r.length; i++) {
            r[i] = from + i;
        }
        return r;
    }

    private static String fmtX(double x) {
        return x == Math.rint(x) ? Long.toString((long) x) : Fmt.sig(x, 4);
    }

    /** Returns the chart's XChart type name for diagnostics. */
    static String kind(Chart<?, ?> c) {
        return c.getClass().getSimpleName();
    }
}
