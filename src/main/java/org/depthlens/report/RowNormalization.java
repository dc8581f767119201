package org.depthlens.report;

import java.util.Arrays;

/**
 * The LNS repository's heatmap normalisation, a presentation option only (never a stored number):
 * for each n (one row of the heatmap, l = 0..L-n), clip the values to their 1st..99th percentile
 * (linear interpolation between order statistics, numpy's default) and min-max scale the clipped
 * values to [0, 1]. A row whose clipped range is empty (a single cell, or all equal) has no
 * defined normalisation and comes back as NaN (not drawn).
 */
public final class RowNormalization {
    private RowNormalization() {}

    /** Same ragged shape as the input ({@code [l][n-1]}), normalised along each n. */
    public static double[][] normalize(double[][] triangle) {
        int L = triangle.length;
        double[][] out = new double[L][];
        for (int l = 0; l < L; l++) {
            out[l] = new double[triangle[l].length];
        }
        for (int n = 1; n <= L; n++) {
            int count = L - n + 1;
            double[] row = new double[count];
            for (int l = 0; l < count; l++) {
                row[l] = triangle[l][n - 1];
            }
            double[] norm = normalizeRow(row);
            for (int l = 0; l < count; l++) {
                out[l][n - 1] = norm[l];
            }
        }
        return out;
    }

    /** Clip to [p1, p99] then min-max to [0, 1]; NaN in, NaN out; constant rows give NaN. */
    static double[] normalizeRow(double[] row) {
        double[] finite = Arrays.stream(row).filter(Double::isFinite).sorted().toArray();
        double[] out = new double[row.length];
        Arrays.fill(out, Double.NaN);
        if (finite.length == 0) {
            return out;
        }
        double lo = percentile(finite, 1);
        double hi = percentile(finite, 99);
        if (!(hi > lo)) {
            return out;
        }
        for (int i = 0; i < row.length; i++) {
            if (Double.isFinite(row[i])) {
                double c = Math.max(lo, Math.min(hi, row[i]));
                out[i] = (c - lo) / (hi - lo);
            }
        }
        return out;
    }

    /** numpy.percentile(sorted, p) with the default 'linear' method; {@code sorted} ascending. */
    static double percentile(double[] sorted, double p) {
        double idx = p / 100.0 * (sorted.length - 1);
        int i = (int) Math.floor(idx);
        if (i >= sorted.length - 1) {
            return sorted[sorted.length - 1];
        }
        double f = idx - i;
        return sorted[i] + (sorted[i + 1] - sorted[i]) * f;
    }
}
