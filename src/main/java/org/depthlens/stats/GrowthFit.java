package org.depthlens.stats;

import java.util.ArrayList;
import java.util.List;

/**
 * How variance[l] grows with depth l = 1..L (docs/metrics.md, "Variance growth"): the paper's three candidate forms,
 * each fitted by ordinary least squares in the space where it is linear, and all compared in one space, the
 * logarithm of the variance, so that a 10 % miss counts the same at every depth:
 * <ul>
 *   <li>linear: v = a + b l, fitted to v;</li>
 *   <li>power law: v = a l^b, fitted as log v = log a + b log l;</li>
 *   <li>exponential: v = a e^(b l), fitted as log v = log a + b l.</li>
 * </ul>
 * Goodness is {@code rmse_log}, the root mean square of log v - log v̂ over the depths (NaN when a fitted linear
 * value is not positive), and {@code r2}, the coefficient of determination in the space the form was fitted in.
 *
 * @param form    "linear", "power", "exponential"
 * @param a       the scale parameter
 * @param b       slope, exponent or rate
 * @param rmseLog root mean square residual of log variance
 * @param r2      R² in the fitting space
 */
public record GrowthFit(String form, double a, double b, double rmseLog, double r2) {
    public static final List<String> FORMS = List.of("linear", "power", "exponential");
    /** What metrics.json states about the fitting space. */
    public static final String SPACE = "variance[1..L] against depth l; linear fitted to v, power and exponential to log v; "
            + "rmse_log compares all three in log v";

    /** The three fits of variance[1..L] (index 0, the embeddings, is not fitted); empty when L < 3 or a value is not positive. */
    public static List<GrowthFit> fit(double[] variance) {
        int n = variance.length - 1;
        List<GrowthFit> out = new ArrayList<>();
        if (n < 3) return out;
        double[] depth = new double[n], logDepth = new double[n], v = new double[n], logV = new double[n];
        for (int i = 0; i < n; i++) {
            depth[i] = i + 1;
            logDepth[i] = Math.log(i + 1);
            v[i] = variance[i + 1];
            if (!(v[i] > 0) || !Double.isFinite(v[i])) return out;
            logV[i] = Math.log(v[i]);
        }
        double[] lin = ols(depth, v);
        double[] linPred = new double[n];
        for (int i = 0; i < n; i++) linPred[i] = lin[0] + lin[1] * depth[i];
        out.add(new GrowthFit("linear", lin[0], lin[1], rmseLog(logV, linPred, false), r2(v, linPred)));
        double[] pow = ols(logDepth, logV);
        double[] powPred = new double[n];
        for (int i = 0; i < n; i++) powPred[i] = pow[0] + pow[1] * logDepth[i];
        out.add(new GrowthFit("power", Math.exp(pow[0]), pow[1], rmseLog(logV, powPred, true), r2(logV, powPred)));
        double[] exp = ols(depth, logV);
        double[] expPred = new double[n];
        for (int i = 0; i < n; i++) expPred[i] = exp[0] + exp[1] * depth[i];
        out.add(new GrowthFit("exponential", Math.exp(exp[0]), exp[1], rmseLog(logV, expPred, true), r2(logV, expPred)));
        return out;
    }

    /** The form with the smallest {@code rmse_log} (the first on ties), or null. */
    public static String best(List<GrowthFit> fits) {
        GrowthFit best = null;
        for (GrowthFit f : fits) if (!Double.isNaN(f.rmseLog) && (best == null || f.rmseLog < best.rmseLog)) best = f;
        return best == null ? null : best.form;
    }

    /** {intercept, slope} of the least-squares line through (x, y). */
    static double[] ols(double[] x, double[] y) {
        Moments m = Moments.of(x, y);
        double b = m.sxy() / m.sxx();
        return new double[] {m.meanY() - b * m.meanX(), b};
    }

    private static double rmseLog(double[] logV, double[] pred, boolean predIsLog) {
        double s = 0;
        for (int i = 0; i < logV.length; i++) {
            double p = predIsLog ? pred[i] : pred[i] > 0 ? Math.log(pred[i]) : Double.NaN;
            s += (logV[i] - p) * (logV[i] - p);
        }
        return Math.sqrt(s / logV.length);
    }

    private static double r2(double[] y, double[] pred) {
        double m = 0;
        for (double v : y) m += v;
        m /= y.length;
        double ss = 0, st = 0;
        for (int i = 0; i < y.length; i++) {
            ss += (y[i] - pred[i]) * (y[i] - pred[i]);
            st += (y[i] - m) * (y[i] - m);
        }
        return st == 0 ? Double.NaN : 1 - ss / st;
    }
}
