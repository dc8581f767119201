package org.depthlens.report;

import org.depthlens.analysis.MetricRegistry;
import org.depthlens.stats.GrowthFit;
import org.depthlens.stats.Spearman;
import org.depthlens.stats.Uncertainty;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Error bars and what they allow to say (docs/metrics.md, "Uncertainty" and after): for each model, which cheap
 * score predicts the damage of removing a block (Spearman's rho with its interval, and a scatter of the ranks), how
 * its variance grows with depth (three fitted forms, models side by side). The paired intervals of differences
 * between models are in the comparison's table ({@link PairedDeltas}).
 */
public final class StatsSection implements ReportSection {
    static final String SCATTER = "Each block as a point: the rank of its score (x, 1 = smallest) against the rank of "
            + "its damage loss_without_layer[l] - loss (y), one marker per score. Points on the diagonal: the score "
            + "orders the blocks exactly as removing them costs.";

    @Override
    public String id() {
        return "statistics";
    }

    @Override
    public String title() {
        return "Error bars, damage predictors, variance growth";
    }

    @Override
    public Map<String, String> toc(ReportContext ctx) {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("stats-damage", "Which score predicts the damage");
        t.put("stats-growth", "Variance growth");
        return t;
    }

    @Override
    public void render(ReportContext ctx, Html out) throws IOException {
        List<ReportModel> ms = ctx.models();
        Uncertainty first = ms.get(0).metrics().uncertainty();
        out.note(first == null ? "These results carry no intervals (analysed before they existed)."
                : "Intervals: 95 %, " + first.method() + " (" + first.resamples() + " resamples, seed " + first.seed() + ", "
                + first.windows() + " windows); they describe the variation over windows of the analysed text. Shaded "
                + "bands in the line charts are these intervals.");

        out.h3("stats-damage", "Which score predicts the damage");
        out.note("Spearman's rank correlation over the blocks between each score and the damage loss_without_layer[l] - loss "
                + "(average ranks for ties), with its 95 % interval from the same window bootstrap. Near 1: ranking blocks "
                + "by the score ranks them by what removing them costs.");
        List<String> scores = new ArrayList<>();
        for (ReportModel m : ms) {
            Uncertainty u = m.metrics().uncertainty();
            if (u != null && u.scoreVsDamage() != null) for (String s : u.scoreVsDamage().keySet()) if (!scores.contains(s)) scores.add(s);
        }
        if (scores.isEmpty()) {
            out.note("Not computed (needs the removal sweep and intervals).");
        } else {
            List<String> header = new ArrayList<>(List.of("Score"));
            for (ReportModel m : ms) header.add(m.label());
            List<List<String>> rows = new ArrayList<>();
            for (String s : scores) {
                List<String> row = new ArrayList<>(List.of(s));
                for (ReportModel m : ms) {
                    Uncertainty u = m.metrics().uncertainty();
                    Uncertainty.Correlation c = u == null ? null : u.scoreVsDamage().get(s);
                    row.add(c == null ? "-" : Fmt.num(c.spearman()) + " [" + Fmt.num(c.lo()) + ", " + Fmt.num(c.hi()) + "]");
                }
                rows.add(row);
            }
            out.table(header, rows, numeric(header.size()));
            out.gridStart();
            for (ReportModel m : ms) {
                XYChart c = scatter(m);
                if (c != null) ctx.figure(out, ctx.writeChart(ctx.chartDir(m), "score_vs_damage", c, "Score vs damage ranks", SCATTER));
            }
            out.gridEnd();
        }

        out.h3("stats-growth", "Variance growth");
        out.note("variance[l] over depths 1..L fitted as linear (in v), power law and exponential (in log v); rmse_log, the "
                + "root mean square of log v - log v-hat, compares all three; best = the smallest. The paper expects Pre-LN to "
                + "grow sub-exponentially and LNS more slowly: compare the power-law exponent b.");
        List<String> gh = new ArrayList<>(List.of("Form", "Parameter"));
        for (ReportModel m : ms) gh.add(m.label());
        List<List<String>> grows = new ArrayList<>();
        List<List<GrowthFit>> fits = ms.stream().map(m -> GrowthFit.fit(m.metrics().variance())).toList();
        for (String form : GrowthFit.FORMS) {
            for (String p : List.of("a", "b", "rmse_log", "r2")) {
                List<String> row = new ArrayList<>(List.of(p.equals("a") ? form + formula(form) : "", p));
                for (List<GrowthFit> f : fits) {
                    GrowthFit g = f.stream().filter(x -> x.form().equals(form)).findFirst().orElse(null);
                    row.add(g == null ? "-" : Fmt.num(switch (p) {
                        case "a" -> g.a();
                        case "b" -> g.b();
                        case "rmse_log" -> g.rmseLog();
                        default -> g.r2();
                    }));
                }
                grows.add(row);
            }
        }
        List<String> best = new ArrayList<>(List.of("best", "smallest rmse_log"));
        for (List<GrowthFit> f : fits) best.add(f.isEmpty() ? "-" : GrowthFit.best(f));
        grows.add(best);
        out.table(gh, grows, numeric(gh.size()));

    }

    private static String formula(String form) {
        return switch (form) {
            case "linear" -> ": v = a + b l";
            case "power" -> ": v = a l^b";
            default -> ": v = a e^(b l)";
        };
    }

    private static boolean[] numeric(int n) {
        boolean[] b = new boolean[n];
        for (int i = 1; i < n; i++) b[i] = true;
        return b;
    }

    /** Rank of each score against rank of the damage, one series per score. */
    static XYChart scatter(ReportModel m) {
        if (m.lossDrop() == null) return null;
        double[] dmg = Spearman.ranks(m.lossDrop());
        XYChart c = new XYChart(Charts.WIDTH, Charts.HEIGHT);
        c.setTitle(m.label() + ": score rank vs damage rank");
        c.setXAxisTitle("Rank of the score (1 = smallest)");
        c.setYAxisTitle("Rank of loss_without_layer[l] - loss");
        XYStyler s = c.getStyler();
        Charts.style(s);
        s.setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Scatter);
        s.setMarkerSize(7);
        s.setXAxisDecimalPattern("#0");
        s.setYAxisDecimalPattern("#0");
        int i = 0;
        Map<String, double[]> scores = new LinkedHashMap<>();
        for (var e : MetricRegistry.scores().entrySet()) {
            double[] v = e.getValue().apply(m.metrics());
            if (v != null) scores.put(e.getKey(), v);
        }
        for (var e : scores.entrySet()) {
            XYSeries ser = c.addSeries(e.getKey(), Spearman.ranks(e.getValue()), dmg);
            Color col = Palette.ramp(i, scores.size());
            ser.setMarkerColor(col);
            ser.setMarker(Charts.marker(i++));
        }
        s.setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.OutsideE);
        s.setLegendLayout(org.knowm.xchart.style.Styler.LegendLayout.Vertical);
        return c;
    }
}
