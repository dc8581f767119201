package org.depthlens.probe;

import org.depthlens.stats.WindowTable;

import java.util.List;

/**
 * Mergeable, serialisable partial sums of the probe metrics of the residual stream over the tokens of one
 * window, or of several windows added up (docs/metrics.md), accumulated in double. The planner keeps one per
 * window and adds them up in window order, so the totals are bitwise the same whatever way windows were
 * grouped into batches, threads or machines; {@link #finish} turns them into {@link Metrics} together with what
 * other parts of the pass measured per sequence (angular_last, the losses). Variances are kept as (count, sum,
 * centred sum of squares) and merged with Chan's formula, so a large mean cannot cancel them out.
 */
public final class ProbeSums implements java.io.Serializable {
    private static final long serialVersionUID = 1L;
    final int layers;
    final int hidden;
    /** angular sums over all tokens, [l][n-1]. */
    final double[][] angAll;
    /** sum of cos(x[l], x[l+1]) over tokens. */
    final double[] cosNext;
    final double[] tokenVar;
    final double[] rmsSum;
    final double[] updateRatio;
    /** per depth: element count, element sum, centred sum of squares. */
    final double[] elemCount;
    final double[] elemSum;
    final double[] elemM2;
    long tokens;

    public ProbeSums(int layers, int hidden) {
        this.layers = layers;
        this.hidden = hidden;
        angAll = triangle(layers);
        cosNext = new double[layers];
        tokenVar = new double[layers + 1];
        rmsSum = new double[layers + 1];
        updateRatio = new double[layers];
        elemCount = new double[layers + 1];
        elemSum = new double[layers + 1];
        elemM2 = new double[layers + 1];
    }

    private static double[][] triangle(int layers) {
        double[][] t = new double[layers][];
        for (int l = 0; l < layers; l++) t[l] = new double[layers - l];
        return t;
    }

    public int layers() {
        return layers;
    }

    /** Windows' sums added up in the order given, starting from nothing ({@code windows} are not modified). */
    public static ProbeSums total(int layers, int hidden, List<ProbeSums> windows) {
        ProbeSums t = new ProbeSums(layers, hidden);
        for (ProbeSums w : windows) t.merge(w);
        return t;
    }

    /** Adds {@code o} into this (same model shape); {@code o} is not modified. */
    public ProbeSums merge(ProbeSums o) {
        if (o.layers != layers || o.hidden != hidden) throw new IllegalArgumentException("cannot merge sums of different models");
        for (int l = 0; l < layers; l++) {
            for (int n = 0; n < angAll[l].length; n++) {
                angAll[l][n] += o.angAll[l][n];
            }
            cosNext[l] += o.cosNext[l];
            updateRatio[l] += o.updateRatio[l];
        }
        for (int d = 0; d <= layers; d++) {
            tokenVar[d] += o.tokenVar[d];
            rmsSum[d] += o.rmsSum[d];
            double na = elemCount[d], nb = o.elemCount[d], n = na + nb;
            if (nb == 0) continue;
            if (na == 0) {
                elemCount[d] = nb;
                elemSum[d] = o.elemSum[d];
                elemM2[d] = o.elemM2[d];
                continue;
            }
            double delta = o.elemSum[d] / nb - elemSum[d] / na;
            elemM2[d] += o.elemM2[d] + delta * delta * na * nb / n;
            elemSum[d] += o.elemSum[d];
            elemCount[d] = n;
        }
        tokens += o.tokens;
        return this;
    }

    /**
     * The metrics these sums stand for, with angular_last and the losses, which the pass measures per sequence
     * ({@code lossWithoutLayer} null when no removal sweep ran).
     */
    public Metrics finish(double[][] angularLast, double loss, double[] lossWithoutLayer) {
        double[][] all = new double[layers][];
        for (int l = 0; l < layers; l++) all[l] = div(angAll[l], tokens);
        double[] bi = new double[layers];
        for (int l = 0; l < layers; l++) bi[l] = 1 - cosNext[l] / tokens;
        double[] var = new double[layers + 1];
        for (int d = 0; d <= layers; d++) var[d] = elemM2[d] / elemCount[d];
        return new Metrics(layers, all, angularLast, bi, var, div(tokenVar, tokens), div(rmsSum, tokens), div(updateRatio, tokens),
                loss, lossWithoutLayer);
    }

    private static double[] div(double[] a, double n) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) out[i] = a[i] / n;
        return out;
    }

    public long tokens() {
        return tokens;
    }

    /**
     * Adds the per-window sums of {@code windows} (one partial per window, in window order) and the metrics they
     * define to a bootstrap table (docs/metrics.md, "Uncertainty"): angular_all, block_influence, variance,
     * token_variance, rms, update_ratio, each a ratio of summed sums. For the variance, each window's (count,
     * sum, M2) becomes sums of (x - mu) and (x - mu)^2 about the depth's overall mean mu, which add linearly and
     * keep the resampled variance free of cancellation.
     */
    public static void declare(WindowTable table, List<ProbeSums> windows) {
        int L = windows.get(0).layers, pairs = LastTokenAngles.pairs(L);
        // row layout: angle sums (pairs), cos next (L), token variance (L+1), rms (L+1), update ratio (L),
        // count, shifted sum, shifted sum of squares (3 x (L+1)), tokens
        int cos = pairs, tokVar = cos + L, rms = tokVar + L + 1, upd = rms + L + 1, cnt = upd + L, sum = cnt + L + 1,
                sq = sum + L + 1, tok = sq + L + 1;
        ProbeSums all = total(L, windows.get(0).hidden, windows);
        double[][] rows = new double[windows.size()][tok + 1];
        for (int k = 0; k < rows.length; k++) {
            ProbeSums w = windows.get(k);
            double[] r = rows[k];
            for (int l = 0; l < L; l++) {
                for (int n = 1; n <= L - l; n++) r[LastTokenAngles.index(L, l, n)] = w.angAll[l][n - 1];
                r[cos + l] = w.cosNext[l];
                r[upd + l] = w.updateRatio[l];
            }
            for (int d = 0; d <= L; d++) {
                r[tokVar + d] = w.tokenVar[d];
                r[rms + d] = w.rmsSum[d];
                double n = w.elemCount[d], mu = all.elemSum[d] / all.elemCount[d];
                double shift = n == 0 ? 0 : w.elemSum[d] / n - mu;
                r[cnt + d] = n;
                r[sum + d] = n * shift;
                r[sq + d] = w.elemM2[d] + n * shift * shift;
            }
            r[tok] = w.tokens;
        }
        int o = table.columns(rows);
        int[] tri = new int[L];
        for (int l = 0; l < L; l++) tri[l] = L - l;
        table.metric("angular_all", 2, tri, s -> ratio(s, o, 0, pairs, o + tok));
        table.metric("block_influence", 1, new int[] {L}, s -> {
            double[] v = new double[L];
            for (int l = 0; l < L; l++) v[l] = 1 - s[o + cos + l] / s[o + tok];
            return v;
        });
        table.metric("variance", 1, new int[] {L + 1}, s -> {
            double[] v = new double[L + 1];
            for (int d = 0; d <= L; d++) {
                double n = s[o + cnt + d], c = s[o + sum + d];
                v[d] = (s[o + sq + d] - c * c / n) / n;
            }
            return v;
        });
        table.metric("token_variance", 1, new int[] {L + 1}, s -> ratio(s, o, tokVar, L + 1, o + tok));
        table.metric("rms", 1, new int[] {L + 1}, s -> ratio(s, o, rms, L + 1, o + tok));
        table.metric("update_ratio", 1, new int[] {L}, s -> ratio(s, o, upd, L, o + tok));
    }

    /** {@code len} column totals from {@code o + at}, each divided by the total at {@code den}. */
    private static double[] ratio(double[] s, int o, int at, int len, int den) {
        double[] v = new double[len];
        for (int i = 0; i < len; i++) v[i] = s[o + at + i] / s[den];
        return v;
    }
}
