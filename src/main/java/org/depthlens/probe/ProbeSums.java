package org.depthlens.probe;

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
    public static ProbeSums total(int layers, int hidden, java.util.List<ProbeSums> windows) {
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
}
