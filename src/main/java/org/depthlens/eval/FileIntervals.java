package org.depthlens.eval;

import org.depthlens.stats.Band;
import org.depthlens.stats.Bootstrap;
import org.depthlens.stats.WindowTable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The 95 % intervals of one task or documents file (docs/metrics.md, "Uncertainty of the evaluation"): the window
 * bootstrap of {@code analyze} with whole items of a task (a question with all its choices) or whole documents of a
 * documents file (a document's tokens are not independent) as the resampled units. Every resample draws the same
 * units for the full model, each removal and each pruning, so a change {@code value_without - value_full} is one
 * statistic of the resampled sums (paired).
 *
 * <p>The per-unit sums come from the per-sequence log-likelihoods the pass returns (no hidden states), so a Spark run,
 * which merges those bitwise, gives bitwise the same intervals.
 *
 * @param method    how they were made
 * @param unit      "item" or "document"
 * @param units     items or documents resampled
 * @param ci95      by key, {lo, hi} in the key's shape: {@code METRIC} (full model, a number), {@code removal.METRIC}
 *                  (the change for each removed block), {@code removal.without.METRIC} (the value without each block),
 *                  {@code pruned.METRIC} and {@code pruned.without.METRIC} (each pruning, n = 1..K); documents files also
 *                  {@code removal.loss_increase} (ln of token_ppl without over full, per removed block)
 * @param table     the per-unit sums behind the intervals, for paired intervals between models evaluated in the same
 *                  run on the same file; null when read back from eval.json
 */
public record FileIntervals(String method, int resamples, long seed, String unit, int units, Map<String, Band> ci95,
                            WindowTable table) {
    public static final String ITEMS = "percentile bootstrap over items";
    public static final String DOCUMENTS = "percentile bootstrap over documents";
    public static final String LOSS_INCREASE = "removal.loss_increase";

    public FileIntervals {
        ci95 = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ci95));
    }

    /** A metric's value on one side (0 = full model, 1.. = removals then prunings) from column totals. */
    @FunctionalInterface
    private interface Side {
        double value(double[] totals, int side, int metric);
    }

    /**
     * Intervals of a task file.
     *
     * @param hits {@code [side][item] = {acc hit, acc_norm hit}}, sides: the full model, each removed block, each pruning
     */
    public static FileIntervals items(int[][][] hits, int removals, int prunings, int resamples, long seed) {
        return items(hits, removals, prunings, Bootstrap.indices(hits[0].length, resamples, seed), seed);
    }

    /** The same with the resampling indices given ({@code [r][k]}, item indices; tests give NumPy's). */
    static FileIntervals items(int[][][] hits, int removals, int prunings, int[][] indices, long seed) {
        int items = hits[0].length, sides = hits.length;
        double[][] rows = new double[items][1 + 2 * sides];
        for (int i = 0; i < items; i++) {
            rows[i][0] = 1;
            for (int s = 0; s < sides; s++) {
                rows[i][1 + 2 * s] = hits[s][i][0];
                rows[i][2 + 2 * s] = hits[s][i][1];
            }
        }
        WindowTable t = new WindowTable(items);
        t.columns(rows);
        declare(t, TaskResult.METRICS, removals, prunings, (tot, s, m) -> tot[1 + 2 * s + m] / tot[0]);
        return new FileIntervals(ITEMS, indices.length, seed, "item", items, t.intervals(indices), t);
    }

    /**
     * Intervals of a documents file.
     *
     * @param counts  {@code [document] = {tokens, words, bytes}}
     * @param loglik  {@code [side][document]}: the document's summed log-likelihood, sides as in {@link #items}
     */
    public static FileIntervals documents(long[][] counts, double[][] loglik, int removals, int prunings, int resamples, long seed) {
        return documents(counts, loglik, removals, prunings, Bootstrap.indices(counts.length, resamples, seed), seed);
    }

    /** The same with the resampling indices given ({@code [r][k]}, document indices). */
    static FileIntervals documents(long[][] counts, double[][] loglik, int removals, int prunings, int[][] indices, long seed) {
        int docs = counts.length, sides = loglik.length;
        double[][] rows = new double[docs][3 + sides];
        for (int k = 0; k < docs; k++) {
            for (int c = 0; c < 3; c++) rows[k][c] = counts[k][c];
            for (int s = 0; s < sides; s++) rows[k][3 + s] = loglik[s][k];
        }
        WindowTable t = new WindowTable(docs);
        t.columns(rows);
        Side v = (tot, s, m) -> DocsResult.value(m, tot[3 + s], tot[0], tot[1], tot[2]);
        declare(t, DocsResult.METRICS, removals, prunings, v);
        if (removals > 0) {
            // what the all-models chart draws: the loss increase in nats per token, ln(token_ppl without / full)
            t.metric(LOSS_INCREASE, 1, new int[] {removals}, tot -> {
                double[] out = new double[removals];
                double full = Math.log(v.value(tot, 0, 0));
                for (int l = 0; l < removals; l++) out[l] = Math.log(v.value(tot, 1 + l, 0)) - full;
                return out;
            });
        }
        return new FileIntervals(DOCUMENTS, indices.length, seed, "document", docs, t.intervals(indices), t);
    }

    /** Every key of {@link #ci95}: the full values, then the changes and values of the removals, then of the prunings. */
    private static void declare(WindowTable t, List<String> metrics, int removals, int prunings, Side v) {
        for (int m = 0; m < metrics.size(); m++) {
            int mm = m;
            t.metric(metrics.get(m), 0, new int[] {1}, tot -> new double[] {v.value(tot, 0, mm)});
        }
        group(t, "removal", metrics, 1, removals, v);
        group(t, "pruned", metrics, 1 + removals, prunings, v);
    }

    private static void group(WindowTable t, String name, List<String> metrics, int first, int n, Side v) {
        if (n == 0) return;
        for (boolean change : new boolean[] {true, false}) {
            for (int m = 0; m < metrics.size(); m++) {
                int mm = m;
                t.metric(name + (change ? "." : ".without.") + metrics.get(m), 1, new int[] {n}, tot -> {
                    double[] out = new double[n];
                    double full = change ? v.value(tot, 0, mm) : 0;
                    for (int i = 0; i < n; i++) out[i] = v.value(tot, first + i, mm) - full;
                    return out;
                });
            }
        }
    }

    /** {lo, hi} of {@code key} (a vector, or a number as a vector of one), or null when not computed. */
    public double[][] bounds(String key) {
        Band b = ci95.get(key);
        return b == null ? null : new double[][] {b.lo0(), b.hi0()};
    }

    /**
     * Per metric of {@code metrics} (full model), the interval of {@code a}'s value minus {@code b}'s with both sides
     * resampled on the same units: the two must be the same file evaluated in this run (units in the same order);
     * empty otherwise (e.g. a result read back from eval.json).
     */
    public static Map<String, Band> paired(FileIntervals a, FileIntervals b, List<String> metrics) {
        if (a == null || b == null || a.table == null || b.table == null || a.units != b.units || !a.unit.equals(b.unit)
                || a.resamples != b.resamples || a.seed != b.seed) {
            return Map.of();
        }
        return paired(a, b, metrics, Bootstrap.indices(a.units, a.resamples, a.seed));
    }

    /** The same with the resampling indices given. */
    static Map<String, Band> paired(FileIntervals a, FileIntervals b, List<String> metrics, int[][] indices) {
        return WindowTable.paired(fullOnly(a.table, metrics), fullOnly(b.table, metrics), indices);
    }

    /** A table over the same per-unit sums holding only the full model's metrics. */
    private static WindowTable fullOnly(WindowTable t, List<String> metrics) {
        WindowTable s = new WindowTable(t.windows());
        s.columns(t.rows());
        for (String m : metrics) {
            WindowTable.Metric metric = t.metrics().get(m);
            if (metric != null) s.metric(m, 0, new int[] {1}, metric.statistic());
        }
        return s;
    }
}
