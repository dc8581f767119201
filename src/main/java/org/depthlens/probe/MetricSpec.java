package org.depthlens.probe;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The metric registry (docs/design.md, "The metric registry"): each array metric of {@link Metrics} declared once,
 * with its key (in metrics.json, in {@code uncertainty.ci95} and in the per-window statistics of the bootstrap),
 * shape, unit, glossary line, per_block.csv column and default line chart. The shape checks, per_block.csv (values
 * and {@code _lo}/{@code _hi} columns), the report's glossary and its per-block and overlay charts and bands are
 * all driven by this list, in this order (per_block.csv's column order).
 *
 * @param key       metrics.json key ("logit_lens.kl" is kl inside the logit_lens object)
 * @param shape     its shape for L blocks
 * @param optional  null when its probe did not run (else always present)
 * @param derived   computed from other metrics for the report and the intervals, not stored in metrics.json
 * @param unit      unit of its values
 * @param glossary  the report's one-sentence definition (docs/metrics.md has the exact one)
 * @param rows      its values as rows (a vector is one row, a triangle one row per l), or null when absent
 * @param csvColumn its per_block.csv column, or null when not in per_block.csv (triangles have their own files)
 * @param chart     its default line chart, or null
 */
public record MetricSpec(String key, Shape shape, boolean optional, boolean derived, String unit, String glossary,
                         Function<Metrics, double[][]> rows, String csvColumn, Chart chart) {

    /** Lengths for a model of L blocks. */
    public enum Shape {
        /** depths 0..L: L+1 values */
        DEPTHS,
        /** blocks 0..L-1: L values */
        BLOCKS,
        /** row l of L-l values, l = 0..L-1 */
        TRIANGLE;

        /** Index suffix of the glossary. */
        String index() {
            return this == TRIANGLE ? "[l][n-1]" : "[l]";
        }
    }

    /**
     * A metric's line chart: {@code id} names it in the report's chart files, {@code title} and {@code yAxis} label
     * it, {@code legend} names its line.
     */
    public record Chart(String id, String title, String yAxis, String legend) {
    }

    /** The metric's values of {@code m} as one vector (a vector metric), or null when absent. */
    public double[] vector(Metrics m) {
        double[][] r = rows.apply(m);
        return r == null ? null : r[0];
    }

    /** "block_influence[l]", "angular_all[l][n-1]": the glossary's name of the metric. */
    public String indexed() {
        return key + shape.index();
    }

    private static Function<Metrics, double[][]> vec(Function<Metrics, double[]> f) {
        return m -> {
            double[] v = f.apply(m);
            return v == null ? null : new double[][] {v};
        };
    }

    private static Function<Metrics, double[][]> minusLoss(Function<Metrics, double[]> f) {
        return vec(m -> {
            double[] v = f.apply(m);
            if (v == null) return null;
            double[] d = new double[v.length];
            for (int l = 0; l < d.length; l++) d[l] = v[l] - m.loss();
            return d;
        });
    }

    private static Function<Metrics, double[]> lens(Function<Metrics.LogitLens, double[]> f) {
        return m -> m.logitLens() == null ? null : f.apply(m.logitLens());
    }

    /** Every array metric, in per_block.csv's column order (the triangles, not in that file, first). */
    public static final List<MetricSpec> ALL = List.of(
            new MetricSpec("angular_all", Shape.TRIANGLE, false, false, "angle / pi (0..1)",
                    "Mean over all tokens of arccos(cos(x[l], x[l+n]))/pi: how far the residual stream turns between depth l "
                            + "and depth l+n (0 = same direction, 0.5 = orthogonal).",
                    Metrics::angularAll, null, null),
            new MetricSpec("angular_last", Shape.TRIANGLE, false, false, "angle / pi (0..1)",
                    "The same over the last token of each window only (the choice of Gromov et al. and of the LNS repository).",
                    Metrics::angularLast, null, null),
            new MetricSpec("variance", Shape.DEPTHS, false, false, "squared units of x",
                    "Population variance of all elements of x[l] (all tokens and dimensions together); its growth with depth "
                            + "is the Curse of Depth's symptom.",
                    vec(Metrics::variance), "variance", new Chart("variance", "residual-stream variance vs depth",
                    "Variance of x[l] (all elements)", "variance (all elements of x[l])")),
            new MetricSpec("token_variance", Shape.DEPTHS, false, false, "squared units of x",
                    "Mean over tokens of the population variance of x[l][t] over the hidden dimension.",
                    vec(Metrics::tokenVariance), "token_variance", new Chart("token_variance", "token variance vs depth",
                    "Token variance of x[l]", "token variance (mean over tokens of Var over d)")),
            new MetricSpec("rms", Shape.DEPTHS, false, false, "units of x",
                    "Mean over tokens of |x[l][t]| / sqrt(d), d = hidden size.",
                    vec(Metrics::rms), "rms", new Chart("rms", "residual-stream RMS vs depth", "RMS of x[l]",
                    "rms = mean over tokens of |x[l]| / sqrt(d)")),
            new MetricSpec("block_influence", Shape.BLOCKS, false, false, "1 - cosine (0..2)",
                    "1 - mean over tokens of cos(x[l], x[l+1]) (ShortGPT's Block Influence): how much block l changes the "
                            + "direction of the stream; ShortGPT prunes the blocks with the lowest values.",
                    vec(Metrics::blockInfluence), "block_influence", new Chart("block_influence", "block influence",
                    "Block influence 1 - mean cos(x[l], x[l+1])", "block influence (all tokens)")),
            new MetricSpec("update_ratio", Shape.BLOCKS, false, false, "ratio of norms",
                    "Mean over tokens of |x[l+1][t] - x[l][t]| / |x[l][t]|: the size of block l's update relative to its input.",
                    vec(Metrics::updateRatio), "update_ratio", new Chart("update_ratio", "update ratio",
                    "Update ratio |x[l+1] - x[l]| / |x[l]|", "update ratio (mean over tokens)")),
            new MetricSpec("loss_without_layer", Shape.BLOCKS, true, false, "nats/token",
                    "The loss with block l replaced by the identity (its input passes through unchanged); the performance "
                            + "drop of removing block l is loss_without_layer[l] - loss.",
                    vec(Metrics::lossWithoutLayer), "loss_without_layer", null),
            new MetricSpec("damage", Shape.BLOCKS, true, true, "nats/token",
                    "loss_without_layer[l] - loss, what removing block l costs; its interval is paired (both losses on the "
                            + "same resampled windows).",
                    minusLoss(Metrics::lossWithoutLayer), "loss_drop", new Chart("loss_drop",
                    "loss increase when one block is skipped", "Loss without block l - loss (nats/token)",
                    "loss_without_layer[l] - loss")),
            new MetricSpec("logit_lens.loss", Shape.DEPTHS, true, false, "nats/token",
                    "The logit lens: the mean next-token loss when the prediction is read off depth l, p_l = "
                            + "softmax(head(norm(x[l]))) with the final norm recomputed on x[l]; equals loss at l = L.",
                    vec(lens(Metrics.LogitLens::loss)), "logit_lens_loss", null),
            new MetricSpec("logit_lens.kl", Shape.DEPTHS, true, false, "nats",
                    "Mean over all positions of KL(p_L || p_l) in nats: how far the prediction read at depth l is from the "
                            + "final one (0 at l = L).",
                    vec(lens(Metrics.LogitLens::kl)), "logit_lens_kl", null),
            new MetricSpec("logit_lens.top1_agreement", Shape.DEPTHS, true, false, "fraction of positions",
                    "Fraction of all positions where the most likely token at depth l is the final one; the key numbers give "
                            + "the first depth where it exceeds 0.5 (where the prediction forms).",
                    vec(lens(Metrics.LogitLens::top1Agreement)), "logit_lens_top1_agreement", null),
            new MetricSpec("jacobian_deviation", Shape.BLOCKS, true, false, "ratio of norms",
                    "|D - V| / |V| with D the central difference (eps = 1e-2) of block l's map along V = x[l] minus its mean "
                            + "over the window's tokens: how strongly the block's update responds to its input; 0 = the block "
                            + "acts as the identity around its input.",
                    vec(Metrics::jacobianDeviation), "jacobian_deviation", null),
            new MetricSpec("loss_without_attention", Shape.BLOCKS, true, false, "nats/token",
                    "The loss with only block l's attention output replaced by zero, everything else intact.",
                    vec(Metrics::lossWithoutAttention), "loss_without_attention", null),
            new MetricSpec("loss_without_mlp", Shape.BLOCKS, true, false, "nats/token",
                    "The loss with only block l's MLP (or MoE) output replaced by zero; zeroing both sublayers is "
                            + "loss_without_layer[l].",
                    vec(Metrics::lossWithoutMlp), "loss_without_mlp", null),
            new MetricSpec("damage_attention", Shape.BLOCKS, true, true, "nats/token",
                    "loss_without_attention[l] - loss (paired interval; the whiskers of the sublayer chart).",
                    minusLoss(Metrics::lossWithoutAttention), null, null),
            new MetricSpec("damage_mlp", Shape.BLOCKS, true, true, "nats/token",
                    "loss_without_mlp[l] - loss (paired interval; the whiskers of the sublayer chart).",
                    minusLoss(Metrics::lossWithoutMlp), null, null));

    private static final Map<String, MetricSpec> BY_KEY = index(false);
    private static final Map<String, MetricSpec> BY_CHART = index(true);

    private static Map<String, MetricSpec> index(boolean chart) {
        Map<String, MetricSpec> m = new LinkedHashMap<>();
        for (MetricSpec s : ALL) {
            String k = chart ? (s.chart == null ? null : s.chart.id) : s.key;
            if (k != null && m.put(k, s) != null) throw new IllegalStateException("metric " + k + " declared twice");
        }
        return m;
    }

    /** The metric with this key, or null. */
    public static MetricSpec of(String key) {
        return BY_KEY.get(key);
    }

    /** The metric whose default chart has this id (e.g. "loss_drop" is damage's), or null. */
    public static MetricSpec ofChart(String chartId) {
        return BY_CHART.get(chartId);
    }
}
