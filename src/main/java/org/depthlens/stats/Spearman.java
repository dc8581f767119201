package org.depthlens.stats;

/** Spearman's rank correlation with average ranks for ties: the Pearson correlation of the ranks. */
public final class Spearman {
    private Spearman() {}

    /** rho of x and y (same length); NaN when either has fewer than two distinct values. */
    public static double rho(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("lengths differ: " + x.length + " vs " + y.length);
        return pearson(ranks(x), ranks(y));
    }

    /** Ranks 1..n, tied values sharing the mean of their ranks; NaN values make every rank NaN. */
    public static double[] ranks(double[] v) {
        int n = v.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            if (Double.isNaN(v[i])) {
                double[] nan = new double[n];
                java.util.Arrays.fill(nan, Double.NaN);
                return nan;
            }
            order[i] = i;
        }
        java.util.Arrays.sort(order, (a, b) -> Double.compare(v[a], v[b]));
        double[] r = new double[n];
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && v[order[j + 1]] == v[order[i]]) j++;
            double avg = (i + j) / 2.0 + 1;
            for (int k = i; k <= j; k++) r[order[k]] = avg;
            i = j + 1;
        }
        return r;
    }

    static double pearson(double[] a, double[] b) {
        Moments m = Moments.of(a, b);
        return m.sxx() == 0 || m.syy() == 0 ? Double.NaN : m.sxy() / Math.sqrt(m.sxx() * m.syy());
    }
}
