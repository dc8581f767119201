package org.depthlens.probe;

import java.util.Arrays;

/**
 * Mergeable partial sums of every probe metric (shared/docs/metrics.md), accumulated in double.
 * Windows processed in any grouping — batches, threads, machines — {@link #merge} into the same
 * numbers; {@link #finish} turns them into {@link Metrics}. Variances are kept as (count, sum,
 * centred sum of squares) and merged with Chan's formula, so a large mean cannot cancel them out.
 */
public final class ProbeSums {
    final int layers;
    final int hidden;
    /** angular sums over all tokens, [l][n-1]. */
    final double[][] angAll;
    /** angular sums over last tokens, [l][n-1]. */
    final double[][] angLast;
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
    long sequences;
    double nll;
    long nllCount;
    final double[] nllWithout;
    final long[] nllWithoutCount;

    public ProbeSums(int layers, int hidden) {
        this.layers = layers;
        this.hidden = hidden;
        angAll = triangle(layers);
        angLast = triangle(layers);
        cosNext = new double[layers];
        tokenVar = new double[layers + 1];
        rmsSum = new double[layers + 1];
        updateRatio = new double[layers];
        elemCount = new double[layers + 1];
        elemSum = new double[layers + 1];
        elemM2 = new double[layers + 1];
        nllWithout = new double[layers];
        nllWithoutCount = new long[layers];
    }

    private static double[][] triangle(int layers) {
        double[][] t = new double[layers][];
        for (int l = 0; l < layers; l++) t[l] = new double[layers - l];
        return t;
    }

    public int layers() {
        return layers;
    }

    /** Adds the next-token NLL of the full model. */
    public void addLoss(double sum, long count) {
        nll += sum;
        nllCount += count;
    }

    /** Adds the next-token NLL with block {@code l} removed. */
    public void addLossWithout(int l, double sum, long count) {
        nllWithout[l] += sum;
        nllWithoutCount[l] += count;
    }

    /** Adds {@code other} into this (same model shape). */
    public ProbeSums merge(ProbeSums o) {
        if (o.layers != layers || o.hidden != hidden) throw new IllegalArgumentException("cannot merge sums of different models");
        for (int l = 0; l < layers; l++) {
            for (int n = 0; n < angAll[l].length; n++) {
                angAll[l][n] += o.angAll[l][n];
                angLast[l][n] += o.angLast[l][n];
            }
            cosNext[l] += o.cosNext[l];
            updateRatio[l] += o.updateRatio[l];
            nllWithout[l] += o.nllWithout[l];
            nllWithoutCount[l] += o.nllWithoutCount[l];
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
        sequences += o.sequences;
        nll += o.nll;
        nllCount += o.nllCount;
        return this;
    }

    /** The metrics these sums stand for; {@code lossWithoutLayer} is null when no removal sweep ran. */
    public Metrics finish() {
        double[][] all = new double[layers][];
        double[][] last = new double[layers][];
        for (int l = 0; l < layers; l++) {
            all[l] = div(angAll[l], tokens);
            last[l] = div(angLast[l], sequences);
        }
        double[] bi = new double[layers];
        for (int l = 0; l < layers; l++) bi[l] = 1 - cosNext[l] / tokens;
        double[] var = new double[layers + 1];
        for (int d = 0; d <= layers; d++) var[d] = elemM2[d] / elemCount[d];
        boolean removal = Arrays.stream(nllWithoutCount).allMatch(c -> c > 0) && layers > 0;
        double[] without = null;
        if (removal) {
            without = new double[layers];
            for (int l = 0; l < layers; l++) without[l] = nllWithout[l] / nllWithoutCount[l];
        }
        return new Metrics(layers, all, last, bi, var, div(tokenVar, tokens), div(rmsSum, tokens), div(updateRatio, tokens),
                nll / nllCount, without);
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
