package org.depthlens.report;

import org.depthlens.analysis.MetricRegistry;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Writes the standard charts of each model and the comparison charts. */
final class ReportCharts {
    private ReportCharts() {}

    /** Trajectories with more checkpoints get heatmaps only, no overlaid lines. */
    static final int OVERLAY_MAX = 12;
    /** Trajectories of this many checkpoints or more get checkpoint x block heatmaps. */
    static final int HEATMAP_MIN = 4;

    static final String RAW_SCALE = "Colour scale 0 to %s, shared by every raw angular-distance heatmap in this report.";
    static final String ROWNORM = "Same distances, each row n clipped to its 1st-99th percentile and min-max scaled "
            + "to [0, 1] (the LNS repository's view): colours compare cells within a row only; a row with a "
            + "single cell is left blank. A presentation option; stored numbers are raw.";

    /** Per-model charts, in {@code <model>/charts/}. */
    static void writeModel(ReportContext ctx, ReportModel m) throws IOException {
        Path dir = ctx.chartDir(m);
        Metrics x = m.metrics();
        String scaleNote = String.format(java.util.Locale.ROOT, RAW_SCALE, Fmt.tick(ctx.angularScaleMax()));

        ctx.writeChart(dir, "variance", Charts.depthProfile(m, "variance", Charts.Scale.LINEAR),
                "Variance vs depth",
                "Population variance of all elements of x[l] (solid, markers) and mean over tokens of the "
                        + "variance over the hidden dimension (dashed), for l = 0..L.");
        ctx.writeChart(dir, "variance_log", Charts.depthProfile(m, "variance", Charts.Scale.LOG),
                "Variance vs depth, log scale", "The same two curves on a logarithmic y axis.");
        ctx.writeChart(dir, "rms", Charts.depthProfile(m, "rms", Charts.Scale.LINEAR),
                "RMS vs depth", "Mean over tokens of |x[l]| / sqrt(d), d = hidden size, for l = 0..L.");
        ctx.writeChart(dir, "rms_log", Charts.depthProfile(m, "rms", Charts.Scale.LOG),
                "RMS vs depth, log scale", "The same curve on a logarithmic y axis.");

        String[][] ang = {
            {"angular_all", "all tokens", "Mean over all tokens"},
            {"angular_last", "last token", "Mean over the last token of each window"},
        };
        for (String[] a : ang) {
            boolean last = a[0].equals("angular_last");
            double[][] t = last ? x.angularLast() : x.angularAll();
            ctx.writeChart(dir, a[0], Charts.angular(m.label(), t, last, false, ctx.angularScaleMax()),
                    "Angular distance, " + a[1],
                    a[2] + " of arccos(cos(x[l], x[l+n]))/pi, for start depth l (x axis) and span n (y axis), "
                            + "drawn where l+n <= L. " + scaleNote);
            ctx.writeChart(dir, a[0] + "_rownorm", Charts.angular(m.label(), t, last, true, ctx.angularScaleMax()),
                    "Angular distance, " + a[1] + ", row-normalised", ROWNORM);
        }

        ctx.writeChart(dir, "block_influence", Charts.perBlock(m, "block_influence", Charts.Scale.LINEAR, false),
                "Block influence",
                "1 - mean over all tokens of cos(x[l], x[l+1]) for each block l (ShortGPT's BI): how much the "
                        + "block turns the residual stream; ShortGPT prunes the lowest.");
        ctx.writeChart(dir, "block_influence_log", Charts.perBlock(m, "block_influence", Charts.Scale.LOG, false),
                "Block influence, log scale", "The same values on a logarithmic y axis.");
        ctx.writeChart(dir, "update_ratio", Charts.perBlock(m, "update_ratio", Charts.Scale.LINEAR, false),
                "Update ratio", "Mean over tokens of |x[l+1] - x[l]| / |x[l]|: the size of block l's update "
                        + "relative to its input.");
        ctx.writeChart(dir, "update_ratio_log", Charts.perBlock(m, "update_ratio", Charts.Scale.LOG, false),
                "Update ratio, log scale", "The same values on a logarithmic y axis.");
        if (x.lossWithoutLayer() != null) {
            String base = "loss_without_layer[l] - loss: increase of the mean next-token loss (nats/token) when "
                    + "block l is replaced by the identity; full-model loss " + Fmt.num(x.loss()) + ".";
            ctx.writeChart(dir, "loss_drop", Charts.perBlock(m, "loss_drop", Charts.Scale.LINEAR, false),
                    "Loss increase per removed block", base);
            if (Charts.Zoom.of(List.of(new Charts.Line("", Charts.range(0, x.blocks()), m.lossDrop(), Color.BLACK,
                    null, false))) != null) {
                ctx.writeChart(dir, "loss_drop_zoom", Charts.perBlock(m, "loss_drop", Charts.Scale.LINEAR, true),
                        "Loss increase per removed block, zoomed",
                        "The same values with the y axis fitted to all but the dominant block(s); the values "
                                + "off scale are printed in the chart.");
            }
        }
        writeProbes(ctx, dir, m);
        for (MetricSpec s : autoCharts()) {
            if (s.vector(x) == null) continue;
            ctx.writeChart(dir, s.chart().id(), Charts.perBlock(m, s.chart().id(), Charts.Scale.LINEAR, false), title(s), s.glossary());
        }
        if (m.result().expertUsage() != null) {
            int experts = m.result().expertUsage().stream().filter(a -> a != null).mapToInt(a -> a.length)
                    .max().orElse(0);
            ctx.writeChart(dir, "expert_usage", Charts.expertUsage(m.label(), m.result().expertUsage()),
                    "Expert usage",
                    "Share of each MoE block's routed token slots that went to each expert (count / block total; "
                            + "uniform routing = 1/" + experts + "). Dense blocks are blank.");
        }
    }

    static final String LENS = "The logit lens: p_l = softmax(head(norm(x[l]))), the final norm recomputed on x[l]. "
            + "Solid: mean next-token loss of p_l (equal to the model's loss at l = L); dashed: mean KL(p_L || p_l) "
            + "over all positions (0 at l = L), both in nats.";
    static final String TOP1 = "Fraction of all positions where the most likely token at depth l is the one at x[L] "
            + "(1 at l = L).";
    static final String JACOBIAN = "|D - V|_F / |V|_F per block, D the central difference (eps = 1e-2) of block l's "
            + "map along V = x[l] minus its mean over the window's tokens, averaged over windows: 0 = the block is the "
            + "identity around its input.";
    static final String SUBLAYER = "loss_without_attention[l] - loss and loss_without_mlp[l] - loss (nats/token): "
            + "the loss increase when only that sublayer's output of block l is replaced by zero.";

    /** The charts of the probes beyond the paper, for the families that ran. */
    private static void writeProbes(ReportContext ctx, Path dir, ReportModel m) throws IOException {
        Metrics x = m.metrics();
        List<ReportModel> one = List.of(m);
        List<Color> c = List.of(m.color());
        if (x.logitLens() != null) {
            ctx.writeChart(dir, "logit_lens", ProbeCharts.logitLens(one, c, m.label() + ": logit lens"), "Logit lens by depth",
                    LENS);
            ctx.writeChart(dir, "top1_agreement", ProbeCharts.top1(one, c, m.label() + ": top-1 agreement with the last depth"),
                    "Top-1 agreement by depth", TOP1);
        }
        if (x.jacobianDeviation() != null) {
            ctx.writeChart(dir, "jacobian_deviation", ProbeCharts.jacobian(one, c, m.label() + ": Jacobian deviation"),
                    "Jacobian deviation by block", JACOBIAN);
        }
        if (x.lossWithoutAttention() != null && x.lossWithoutMlp() != null) {
            ctx.writeChart(dir, "sublayer_removal", ProbeCharts.sublayerRemoval(m), "Attention vs MLP removal", SUBLAYER);
        }
    }

    /** Comparison charts, in {@code compare/}: overlays of all models and one set per trajectory. */
    static void writeCompare(ReportContext ctx) throws IOException {
        List<ReportModel> ms = ctx.models();
        Path dir = ctx.compareDir();
        List<Color> colours = ms.stream().map(ReportModel::color).toList();
        String all = "All models, one colour each (as in the model list).";
        ctx.writeChart(dir, "variance_log", Charts.overlay(ms, "variance", Charts.Scale.LOG, false, "", colours, false),
                "Variance vs depth, log scale", "Population variance of all elements of x[l]. " + all);
        ctx.writeChart(dir, "variance", Charts.overlay(ms, "variance", Charts.Scale.LINEAR, false, "", colours, false),
                "Variance vs depth", "Population variance of all elements of x[l], linear y axis. " + all);
        ctx.writeChart(dir, "rms_log", Charts.overlay(ms, "rms", Charts.Scale.LOG, false, "", colours, false),
                "RMS vs depth, log scale", "Mean over tokens of |x[l]| / sqrt(d). " + all);
        ctx.writeChart(dir, "block_influence_log",
                Charts.overlay(ms, "block_influence", Charts.Scale.LOG, false, "", colours, false),
                "Block influence, log scale", "1 - mean cos(x[l], x[l+1]) per block. " + all);
        ctx.writeChart(dir, "update_ratio_log",
                Charts.overlay(ms, "update_ratio", Charts.Scale.LOG, false, "", colours, false),
                "Update ratio, log scale", "Mean over tokens of |x[l+1] - x[l]| / |x[l]| per block. " + all);
        List<ReportModel> withLoss = ms.stream().filter(m -> m.lossDrop() != null).toList();
        if (!withLoss.isEmpty()) {
            List<Color> c = withLoss.stream().map(ReportModel::color).toList();
            ctx.writeChart(dir, "loss_drop", Charts.overlay(withLoss, "loss_drop", Charts.Scale.LINEAR, false, "", c,
                    false), "Loss increase per removed block",
                    "loss_without_layer[l] - loss (nats/token) per block. " + all);
            if (Charts.Zoom.of(lossLines(withLoss)) != null) {
                ctx.writeChart(dir, "loss_drop_zoom", Charts.overlay(withLoss, "loss_drop", Charts.Scale.LINEAR, true,
                        "", c, false), "Loss increase per removed block, zoomed",
                        "The same values with the y axis fitted to all but the dominant blocks; off-scale values "
                                + "are printed in the chart.");
            }
        }
        if (ms.stream().anyMatch(m -> m.metrics().logitLens() != null)) {
            ctx.writeChart(dir, "logit_lens", ProbeCharts.logitLens(ms, colours, "Logit lens by depth"), "Logit lens by depth",
                    LENS + " " + all);
            ctx.writeChart(dir, "top1_agreement", ProbeCharts.top1(ms, colours, "Top-1 agreement with the last depth"),
                    "Top-1 agreement by depth", TOP1 + " " + all);
        }
        if (ms.stream().anyMatch(m -> m.metrics().jacobianDeviation() != null)) {
            ctx.writeChart(dir, "jacobian_deviation", ProbeCharts.jacobian(ms, colours, "Jacobian deviation by block"),
                    "Jacobian deviation by block", JACOBIAN + " " + all);
        }
        for (MetricSpec s : autoCharts()) {
            List<ReportModel> with = ms.stream().filter(m -> s.vector(m.metrics()) != null).toList();
            if (with.isEmpty()) continue;
            ctx.writeChart(dir, s.chart().id(), Charts.overlay(with, s.chart().id(), Charts.Scale.LINEAR, false, "",
                    with.stream().map(ReportModel::color).toList(), false), title(s), s.glossary() + " " + all);
        }
        for (Trajectory t : ctx.trajectories()) {
            List<ReportModel> tm = t.models();
            List<Color> ramp = new ArrayList<>();
            for (int i = 0; i < tm.size(); i++) {
                ramp.add(Palette.ramp(i, tm.size()));
            }
            String order = "Checkpoints in the order given, light (first) to dark (last).";
            String prefix = "Trajectory " + (t.index() + 1) + ": ";
            if (tm.size() >= HEATMAP_MIN) {
                String rows = "One row per checkpoint, in the order given (first at the bottom).";
                if (tm.stream().allMatch(m -> m.lossDrop() != null)) {
                    ctx.writeChart(dir, t.prefix() + "_heat_loss_drop", Charts.trajectory(prefix, tm, "loss_drop"),
                            prefix + "loss increase per removed block, every checkpoint",
                            "loss_without_layer[l] - loss (nats/token) for each block (x) and checkpoint (y). " + rows);
                }
                ctx.writeChart(dir, t.prefix() + "_heat_block_influence", Charts.trajectory(prefix, tm, "block_influence"),
                        prefix + "block influence, every checkpoint",
                        "log10 of 1 - mean cos(x[l], x[l+1]) for each block (x) and checkpoint (y). " + rows);
                ctx.writeChart(dir, t.prefix() + "_heat_variance", Charts.trajectory(prefix, tm, "variance"),
                        prefix + "variance vs depth, every checkpoint",
                        "log10 of the population variance of x[l] for each depth (x) and checkpoint (y). " + rows);
            }
            if (tm.size() > OVERLAY_MAX) continue; // more lines than a reader can tell apart: the heatmaps say it
            ctx.writeChart(dir, t.prefix() + "_variance_log",
                    Charts.overlay(tm, "variance", Charts.Scale.LOG, false, prefix, ramp, true),
                    prefix + "variance vs depth", "Population variance of all elements of x[l]. " + order);
            ctx.writeChart(dir, t.prefix() + "_block_influence_log",
                    Charts.overlay(tm, "block_influence", Charts.Scale.LOG, false, prefix, ramp, true),
                    prefix + "block influence", "1 - mean cos(x[l], x[l+1]) per block, log scale. " + order);
            List<ReportModel> tl = tm.stream().filter(m -> m.lossDrop() != null).toList();
            if (tl.size() == tm.size()) {
                boolean zoom = Charts.Zoom.of(lossLines(tl)) != null;
                ctx.writeChart(dir, t.prefix() + "_loss_drop",
                        Charts.overlay(tm, "loss_drop", Charts.Scale.LINEAR, zoom, prefix, ramp, true),
                        prefix + "loss increase per removed block",
                        "loss_without_layer[l] - loss (nats/token)" + (zoom ? ", y axis fitted to all but the "
                                + "dominant blocks (off-scale values printed in the chart)" : "") + ". " + order);
            }
        }
    }

    /** The registered metrics whose default chart the report draws by itself ({@link MetricSpec.Chart#auto}). */
    static List<MetricSpec> autoCharts() {
        return MetricRegistry.METRICS.stream().filter(s -> s.chart() != null && s.chart().auto()).toList();
    }

    private static String title(MetricSpec s) {
        String t = s.chart().title();
        return Character.toUpperCase(t.charAt(0)) + t.substring(1);
    }

    private static List<Charts.Line> lossLines(List<ReportModel> ms) {
        List<Charts.Line> lines = new ArrayList<>();
        for (ReportModel m : ms) {
            lines.add(new Charts.Line(m.label(), Charts.range(0, m.blocks()), m.lossDrop(), m.color(), null, false));
        }
        return lines;
    }
}
