package org.depthlens.report;

import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.CategoryStyler;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;

/**
 * Charts of the probes beyond the paper (docs/metrics.md): the logit lens (loss and KL by depth, top-1
 * agreement), the Jacobian deviation by block on a log scale, and attention vs MLP removal side by side.
 * Each takes one model or several (overlaid in the models' colours); a model whose probe was switched off
 * is left out.
 */
final class ProbeCharts {
    private ProbeCharts() {}

    static final String LENS_Y = "nats (loss of p_l; KL(p_L || p_l))";

    /** Logit-lens loss (solid) and KL to the final distribution (dashed) by depth, one colour per model. */
    static XYChart logitLens(List<ReportModel> models, List<Color> colours, String title) {
        List<Charts.Line> lines = new ArrayList<>();
        boolean one = models.size() == 1;
        for (int i = 0; i < models.size(); i++) {
            Metrics.LogitLens lens = models.get(i).metrics().logitLens();
            if (lens == null) continue;
            double[] depth = Charts.range(0, lens.loss().length);
            String who = one ? "" : models.get(i).label() + " ";
            lines.add(new Charts.Line(who + "loss", depth, lens.loss(), colours.get(i), Charts.marker(models.get(i).index()), false)
                    .with(Charts.band(models.get(i), "logit_lens.loss")));
            lines.add(new Charts.Line(who + "KL", depth, lens.kl(), colours.get(i), SeriesMarkers.NONE, true)
                    .with(Charts.band(models.get(i), "logit_lens.kl")));
        }
        XYChart c = Charts.lines(title, Charts.DEPTH_AXIS, LENS_Y, lines, Charts.Scale.LINEAR, false, false, "depth");
        c.getStyler().setLegendVisible(true);
        return c;
    }

    /** Fraction of positions whose most likely token at depth l is the final one's, one line per model. */
    static XYChart top1(List<ReportModel> models, List<Color> colours, String title) {
        List<Charts.Line> lines = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            Metrics.LogitLens lens = models.get(i).metrics().logitLens();
            if (lens == null) continue;
            lines.add(new Charts.Line(models.get(i).label(), Charts.range(0, lens.top1Agreement().length), lens.top1Agreement(),
                    colours.get(i), Charts.marker(models.get(i).index()), false)
                    .with(Charts.band(models.get(i), "logit_lens.top1_agreement")));
        }
        XYChart c = Charts.lines(title, Charts.DEPTH_AXIS, "Top-1 agreement with x[L]", lines, Charts.Scale.LINEAR, false, false,
                "depth");
        c.getStyler().setYAxisMin(0.0);
        c.getStyler().setYAxisMax(1.0);
        return c;
    }

    /** Jacobian deviation by block, log scale, one line per model. */
    static XYChart jacobian(List<ReportModel> models, List<Color> colours, String title) {
        List<Charts.Line> lines = new ArrayList<>();
        for (int i = 0; i < models.size(); i++) {
            double[] y = models.get(i).metrics().jacobianDeviation();
            if (y == null) continue;
            lines.add(new Charts.Line(models.get(i).label(), Charts.range(0, y.length), y, colours.get(i),
                    Charts.marker(models.get(i).index()), false).with(Charts.band(models.get(i), "jacobian_deviation")));
        }
        return Charts.lines(title, Charts.BLOCK_AXIS, "|D - V| / |V|", lines, Charts.Scale.LOG, false, false, "block");
    }

    /**
     * Loss increase when only the attention (left bar) or only the MLP (right bar) of block l is zeroed, as
     * grouped bars per block, with their 95 % intervals as whiskers when the run has them.
     */
    static CategoryChart sublayerRemoval(ReportModel m) {
        Metrics x = m.metrics();
        int blocks = x.blocks();
        CategoryChart c = new CategoryChart(Charts.WIDTH, Charts.HEIGHT);
        c.setTitle(m.label() + ": attention vs MLP removal");
        c.setXAxisTitle(Charts.BLOCK_AXIS);
        c.setYAxisTitle("Loss with the sublayer zeroed - loss (nats/token)");
        CategoryStyler s = c.getStyler();
        Charts.style(s);
        s.setLegendPosition(Styler.LegendPosition.OutsideS);
        s.setLegendLayout(Styler.LegendLayout.Horizontal);
        s.setOverlapped(false);
        s.setAvailableSpaceFill(0.8);
        s.setyAxisTickLabelsFormattingFunction(Fmt::tick);
        s.setXAxisLabelRotation(blocks > 32 ? 90 : 0);
        List<String> cats = Charts.categories(blocks, 0);
        // categories must be distinct: thinned labels become distinct blanks
        for (int l = 0; l < cats.size(); l++) if (cats.get(l).isBlank()) cats.set(l, " ".repeat(l + 1));
        Color base = m.color();
        addBars(c, "attention zeroed     ", cats, MetricSpec.minusLoss(x.lossWithoutAttention(), x), base);
        addBars(c, "MLP zeroed", cats, MetricSpec.minusLoss(x.lossWithoutMlp(), x), Palette.lighter(base));
        // whiskers: the paired intervals of the two damages (both losses on the same resampled windows)
        String[] keys = {"damage_attention", "damage_mlp"};
        for (int i = 0; i < keys.length; i++) {
            double[][] band = Charts.band(m, keys[i]);
            if (band != null) c.addAnnotation(new BarWhiskers(i, keys.length, band[0], band[1], s.getPlotContentSize(), s.getAvailableSpaceFill()));
        }
        return c;
    }

    private static void addBars(CategoryChart c, String name, List<String> cats, double[] y, Color colour) {
        List<Double> ys = new ArrayList<>();
        for (double v : y) ys.add(Double.isFinite(v) ? v : 0.0);
        CategorySeries ser = c.addSeries(name, cats, ys);
        ser.setFillColor(colour);
        ser.setLineColor(colour);
    }

    /** The depth where top-1 agreement first exceeds 0.5, as the report prints it. */
    static String firstAgreeing(Metrics m) {
        if (m.logitLens() == null) return "-";
        int d = m.logitLens().firstDepthAgreeing();
        return d < 0 ? "never" : "x[" + d + "]";
    }
}
