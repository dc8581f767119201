package org.depthlens.report;

import org.depthlens.analysis.MetricRegistry;
import org.depthlens.stats.Band;
import org.depthlens.stats.Uncertainty;
import org.depthlens.stats.WindowTable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The comparison's summary numbers and the paired intervals of their differences between models (docs/metrics.md,
 * "Paired differences"): each summary is a function of one metric, so on the per-window sums of two models run on
 * the same windows, model minus reference is one statistic resampled on the same windows for both.
 */
final class PairedDeltas {
    /**
     * A summary number of a model.
     *
     * @param label  its row in the comparison table
     * @param metric the registered metric it is computed from (its key in the window table too)
     * @param of     the number, from the metric's values
     */
    record Summary(String label, String metric, ToDoubleFunction<double[]> of) {
        double value(ReportModel m) {
            double[] v = MetricRegistry.of(metric).vector(m.metrics());
            return v == null ? Double.NaN : of.applyAsDouble(v);
        }
    }

    static final Summary LOSS = new Summary("Loss (nats/token)", "loss", v -> v[0]);
    static final Summary PERPLEXITY = new Summary("Perplexity", "loss", v -> KeyNumbers.perplexity(v[0]));
    static final Summary VARIANCE_L = new Summary("Variance of x[L]", "variance", v -> v[v.length - 1]);
    static final Summary GROWTH = new Summary("Variance growth x[L] / x[1]", "variance", v -> v[v.length - 1] / v[1]);
    static final Summary RMS_L = new Summary("RMS of x[L]", "rms", v -> v[v.length - 1]);
    static final Summary MEAN_BI = new Summary("Mean block influence", "block_influence", KeyNumbers::mean);
    static final Summary MEAN_DAMAGE = new Summary("Mean loss increase per removed block", "damage", KeyNumbers::mean);
    static final List<Summary> ALL = List.of(LOSS, PERPLEXITY, VARIANCE_L, GROWTH, RMS_L, MEAN_BI, MEAN_DAMAGE);

    private PairedDeltas() {}

    /**
     * Per summary, the interval of {@code m}'s value minus {@code base}'s from the same resampled windows; empty when
     * the two were not analysed in this run on the same windows (e.g. a report re-drawn from metrics.json, or two
     * tokenizers cutting the same text differently).
     */
    static Map<Summary, Band> of(ReportModel m, ReportModel base) {
        Uncertainty a = m.metrics().uncertainty(), b = base.metrics().uncertainty();
        Map<Summary, Band> out = new LinkedHashMap<>();
        if (a == null || b == null || a.table() == null || b.table() == null || a.windowsSha256() == null
                || !a.windowsSha256().equals(b.windowsSha256()) || a.resamples() != b.resamples() || a.seed() != b.seed()) {
            return out;
        }
        Map<String, Band> bands = WindowTable.paired(summaries(a.table()), summaries(b.table()), a.resamples(), a.seed());
        for (int i = 0; i < ALL.size(); i++) {
            Band band = bands.get(Integer.toString(i));
            if (band != null) out.put(ALL.get(i), band);
        }
        return out;
    }

    /** A table over the same window sums whose metric "i" is summary i. */
    private static WindowTable summaries(WindowTable t) {
        WindowTable s = new WindowTable(t.windows());
        s.columns(t.rows());
        for (int i = 0; i < ALL.size(); i++) {
            Summary sum = ALL.get(i);
            WindowTable.Metric metric = t.metrics().get(sum.metric());
            if (metric == null) continue;
            s.metric(Integer.toString(i), 0, new int[] {1}, tot -> new double[] {sum.of().applyAsDouble(metric.statistic().apply(tot))});
        }
        return s;
    }

    /** "+0.12 [+0.05, +0.19]", starred when the interval excludes zero; without a band just the difference. */
    static String cell(double delta, Band band) {
        if (band == null) return Fmt.signed(delta);
        double lo = band.lo()[0][0], hi = band.hi()[0][0];
        return (excludesZero(lo, hi) ? "\u2605 " : "") + Fmt.signed(delta) + " [" + Fmt.signed(lo) + ", " + Fmt.signed(hi) + "]";
    }

    /** True when [lo, hi] lies wholly on one side of zero: the difference is flagged. */
    static boolean excludesZero(double lo, double hi) {
        return lo > 0 || hi < 0;
    }
}
