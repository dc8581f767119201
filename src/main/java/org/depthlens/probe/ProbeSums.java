package org.depthlens.probe;

import org.depthlens.stats.Bootstrap;
import org.depthlens.stats.WindowSums;
import org.depthlens.stats.WindowTable;

/**
 * Mergeable, serialisable partial sums of the probe metrics of the residual stream (shared/docs/metrics.md), kept
 * per window in double ({@link WindowSums}): merging parts only places windows, and {@link #finish} totals them in
 * window order, so any grouping of windows — batches, threads, machines — gives the same numbers. The per-window
 * rows are also what the bootstrap resamples ({@link #declare}). Variances are kept per window as (count, sum,
 * centred sum of squares) and merged with Chan's formula, so a large mean cannot cancel them out.
 *
 * <p>Row layout for L blocks: angle sums per pair of depths ({@link LastTokenAngles#index}), cos(x[l], x[l+1]) sums
 * (L), token variance sums (L+1), rms sums (L+1), update ratio sums (L), element count, sum and centred sum of
 * squares per depth (3 x (L+1)), tokens (1).
 */
public final class ProbeSums implements java.io.Serializable {
    private static final long serialVersionUID = 2L;
    final int layers;
    final int hidden;
    WindowSums windows;
    final int cos, tokenVar, rms, update, count, sum, m2, tokens;

    public ProbeSums(int layers, int hidden) {
        this.layers = layers;
        this.hidden = hidden;
        cos = LastTokenAngles.pairs(layers);
        tokenVar = cos + layers;
        rms = tokenVar + layers + 1;
        update = rms + layers + 1;
        count = update + layers;
        sum = count + layers + 1;
        m2 = sum + layers + 1;
        tokens = m2 + layers + 1;
        windows = new WindowSums(tokens + 1);
    }

    public int layers() {
        return layers;
    }

    /** The row of window {@code w} (the run's index of the sequence). */
    double[] row(int w) {
        return windows.row(w);
    }

    /** Places {@code o}'s windows next to these (same model shape). */
    public ProbeSums merge(ProbeSums o) {
        if (o.layers != layers || o.hidden != hidden) throw new IllegalArgumentException("cannot merge sums of different models");
        windows.merge(o.windows);
        return this;
    }

    /** These sums with window k renamed {@code ids[k]}. */
    public ProbeSums relabel(int[] ids) {
        ProbeSums out = new ProbeSums(layers, hidden);
        out.windows = windows.relabel(ids);
        return out;
    }

    /**
     * The metrics these sums stand for, with angular_last and the losses, which the pass measures per sequence
     * ({@code lossWithoutLayer} null when no removal sweep ran).
     */
    public Metrics finish(double[][] angularLast, double loss, double[] lossWithoutLayer) {
        double[] t = windows.total();
        double[][] all = new double[layers][];
        double[] bi = new double[layers];
        double[] var = variance();
        for (int l = 0; l < layers; l++) {
            all[l] = new double[layers - l];
            for (int n = 1; n <= layers - l; n++) all[l][n - 1] = t[LastTokenAngles.index(layers, l, n)] / t[tokens];
            bi[l] = 1 - t[cos + l] / t[tokens];
        }
        return new Metrics(layers, all, angularLast, bi, var, ratio(t, tokenVar, layers + 1), ratio(t, rms, layers + 1),
                ratio(t, update, layers), loss, lossWithoutLayer);
    }

    /** Per depth, the population variance of all elements: the windows' (count, sum, M2) merged in window order. */
    private double[] variance() {
        double[] var = new double[layers + 1];
        double[][] rows = windows.matrix();
        for (int d = 0; d <= layers; d++) {
            double n = 0, s = 0, q = 0;
            for (double[] r : rows) {
                double nb = r[count + d];
                if (nb == 0) continue;
                if (n > 0) {
                    double delta = r[sum + d] / nb - s / n;
                    q += r[m2 + d] + delta * delta * n * nb / (n + nb);
                } else {
                    q = r[m2 + d];
                }
                n += nb;
                s += r[sum + d];
            }
            var[d] = q / n;
        }
        return var;
    }

    private double[] ratio(double[] t, int at, int len) {
        double[] out = new double[len];
        for (int i = 0; i < len; i++) out[i] = t[at + i] / t[tokens];
        return out;
    }

    public long tokens() {
        return (long) windows.total()[tokens];
    }

    /**
     * Adds these sums' columns and metrics to a bootstrap table: angular_all, block_influence, variance,
     * token_variance, rms, update_ratio. For the variance, each window's (count, sum, M2) becomes sums of
     * (x - mu) and (x - mu)^2 about the depth's overall mean mu, which add linearly and keep the resampled
     * variance free of cancellation.
     */
    public void declare(WindowTable table) {
        double[][] rows = windows.matrix();
        double[] mean = new double[layers + 1];
        double[] t = windows.total();
        for (int d = 0; d <= layers; d++) mean[d] = t[sum + d] / t[count + d];
        double[][] lin = new double[rows.length][];
        for (int k = 0; k < rows.length; k++) {
            double[] r = rows[k].clone();
            for (int d = 0; d <= layers; d++) {
                double n = r[count + d], shift = n == 0 ? 0 : r[sum + d] / n - mean[d];
                r[sum + d] = n * shift;
                r[m2 + d] = r[m2 + d] + n * shift * shift;
            }
            lin[k] = r;
        }
        int o = table.columns(lin);
        int L = layers;
        int[] tri = new int[L];
        for (int l = 0; l < L; l++) tri[l] = L - l;
        table.metric("angular_all", 2, tri, s -> {
            double[] v = new double[LastTokenAngles.pairs(L)];
            for (int i = 0; i < v.length; i++) v[i] = s[o + i] / s[o + tokens];
            return v;
        });
        table.metric("block_influence", 1, new int[] {L}, s -> {
            double[] v = new double[L];
            for (int l = 0; l < L; l++) v[l] = 1 - s[o + cos + l] / s[o + tokens];
            return v;
        });
        table.metric("variance", 1, new int[] {L + 1}, s -> {
            double[] v = new double[L + 1];
            for (int d = 0; d <= L; d++) {
                double n = s[o + count + d], c = s[o + sum + d];
                v[d] = (s[o + m2 + d] - c * c / n) / n;
            }
            return v;
        });
        table.metric("token_variance", 1, new int[] {L + 1}, ratio(o, tokenVar, L + 1));
        table.metric("rms", 1, new int[] {L + 1}, ratio(o, rms, L + 1));
        table.metric("update_ratio", 1, new int[] {L}, ratio(o, update, L));
    }

    private Bootstrap.Statistic ratio(int o, int at, int len) {
        int tok = tokens;
        return s -> {
            double[] v = new double[len];
            for (int i = 0; i < len; i++) v[i] = s[o + at + i] / s[o + tok];
            return v;
        };
    }
}
