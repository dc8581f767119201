package org.depthlens.stats;

import java.util.Arrays;
import java.util.Random;

/**
 * The window bootstrap of docs/metrics.md ("Uncertainty"): whole windows are resampled with replacement (a window's
 * tokens are not independent), each resample's statistics are computed from the per-window sums totalled over the
 * resampled windows, and the 95 % interval is the 2.5th and 97.5th percentile of the resampled values (linear
 * interpolation between order statistics, NumPy's default).
 */
public final class Bootstrap {
    /** Resamples and seed of {@code analyze} (recorded in metrics.json). */
    public static final int RESAMPLES = 1000;
    public static final long SEED = 20251207L;
    public static final String METHOD = "percentile bootstrap over windows";

    private Bootstrap() {}

    /**
     * {@code [r][k]}: the k-th window drawn by resample r, from {@link java.util.Random} (its algorithm is part of
     * the Java specification, so a seed gives the same draws on every JVM).
     */
    public static int[][] indices(int windows, int resamples, long seed) {
        if (windows < 1) throw new IllegalArgumentException("no windows to resample");
        Random rnd = new Random(seed);
        int[][] idx = new int[resamples][windows];
        for (int[] row : idx) for (int k = 0; k < windows; k++) row[k] = rnd.nextInt(windows);
        return idx;
    }

    /** A function of the column totals of the resampled windows, flattened to a vector. */
    @FunctionalInterface
    public interface Statistic {
        double[] apply(double[] totals);
    }

    /**
     * {@code [s][r][i]}: value i of statistic s on resample r. Each resample's totals are its windows' rows weighted
     * by how often each was drawn, added in window order (so the draw order does not matter, bit for bit).
     */
    public static double[][][] replicate(double[][] rows, int[][] indices, Statistic... statistics) {
        int w = rows.length, width = w == 0 ? 0 : rows[0].length;
        double[][][] out = new double[statistics.length][indices.length][];
        int[] count = new int[w];
        double[] tot = new double[width];
        for (int r = 0; r < indices.length; r++) {
            Arrays.fill(count, 0);
            for (int k : indices[r]) count[k]++;
            Arrays.fill(tot, 0);
            for (int k = 0; k < w; k++) {
                if (count[k] == 0) continue;
                double c = count[k];
                double[] row = rows[k];
                for (int j = 0; j < width; j++) tot[j] += c * row[j];
            }
            for (int s = 0; s < statistics.length; s++) out[s][r] = statistics[s].apply(tot);
        }
        return out;
    }

    /**
     * {@code [i] = {lo, hi}}: the 2.5th and 97.5th percentiles over resamples of value i; NaN when some resample's
     * value is not a number (e.g. a rank correlation of a constant vector).
     */
    public static double[][] interval(double[][] replicates) {
        int n = replicates.length, m = n == 0 ? 0 : replicates[0].length;
        double[][] out = new double[m][2];
        double[] col = new double[n];
        for (int i = 0; i < m; i++) {
            boolean nan = false;
            for (int r = 0; r < n; r++) {
                col[r] = replicates[r][i];
                nan |= Double.isNaN(col[r]);
            }
            if (nan) {
                out[i][0] = out[i][1] = Double.NaN;
                continue;
            }
            Arrays.sort(col);
            out[i][0] = percentile(col, 2.5);
            out[i][1] = percentile(col, 97.5);
        }
        return out;
    }

    /** The q-th percentile of sorted values, interpolating linearly between order statistics (NumPy's "linear"). */
    public static double percentile(double[] sorted, double q) {
        double pos = q / 100 * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(lo + 1, sorted.length - 1);
        double f = pos - lo;
        return sorted[lo] + f * (sorted[hi] - sorted[lo]);
    }
}
