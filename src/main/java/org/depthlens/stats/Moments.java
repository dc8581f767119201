package org.depthlens.stats;

/**
 * Means and centred sums of squares and products of paired samples, as the least-squares line ({@link GrowthFit})
 * and Pearson's correlation ({@link Spearman}) both need them: two passes (the means, then the centred sums), in
 * double, in index order.
 */
record Moments(double meanX, double meanY, double sxx, double syy, double sxy) {
    static Moments of(double[] x, double[] y) {
        int n = x.length;
        double mx = 0, my = 0;
        for (int i = 0; i < n; i++) {
            mx += x[i];
            my += y[i];
        }
        mx /= n;
        my /= n;
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++) {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return new Moments(mx, my, sxx, syy, sxy);
    }
}
