package org.depthlens.probe;

import org.depthlens.model.Sublayer;

import java.util.Arrays;

/**
 * Mergeable, serialisable partial sums of the probe metrics (shared/docs/metrics.md), accumulated in double.
 * Windows processed in any grouping — batches, threads, machines — {@link #merge} into the same numbers up
 * to the last bits of the sums; {@link #finish} turns them into {@link Metrics} together with what the pass
 * planner measures per sequence (angular_last, the losses). Variances are kept as (count, sum, centred sum
 * of squares) and merged with Chan's formula, so a large mean cannot cancel them out.
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
    /** logit lens per depth 0..L: NLL sum and count, KL sum, agreeing positions and positions. */
    final double[] lensNll;
    final long[] lensNllCount;
    final double[] lensKl;
    final long[] lensAgree;
    final long[] lensPositions;
    /** per block: sum of the windows' Jacobian deviations, and the windows. */
    final double[] jacobian;
    final long[] jacobianWindows;
    /** per block and {@link Sublayer} (ordinal): NLL sum and count with that sublayer zeroed. */
    final double[][] nllWithoutSub;
    final long[][] nllWithoutSubCount;

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
        lensNll = new double[layers + 1];
        lensNllCount = new long[layers + 1];
        lensKl = new double[layers + 1];
        lensAgree = new long[layers + 1];
        lensPositions = new long[layers + 1];
        jacobian = new double[layers];
        jacobianWindows = new long[layers];
        nllWithoutSub = new double[Sublayer.values().length][layers];
        nllWithoutSubCount = new long[Sublayer.values().length][layers];
    }

    private static double[][] triangle(int layers) {
        double[][] t = new double[layers][];
        for (int l = 0; l < layers; l++) t[l] = new double[layers - l];
        return t;
    }

    public int layers() {
        return layers;
    }

    /** Adds the logit lens of depth {@code d}: NLL over the scored positions, KL and top-1 agreement over all positions. */
    public void addLens(int d, double nllSum, long nllCount, double klSum, long agree, long positions) {
        lensNll[d] += nllSum;
        lensNllCount[d] += nllCount;
        lensKl[d] += klSum;
        lensAgree[d] += agree;
        lensPositions[d] += positions;
    }

    /** Adds the Jacobian deviations of block {@code l}, summed over {@code windows} windows. */
    public void addJacobian(int l, double sum, long windows) {
        jacobian[l] += sum;
        jacobianWindows[l] += windows;
    }

    /** Adds the next-token NLL with only sublayer {@code sub} of block {@code l} zeroed. */
    public void addLossWithout(Sublayer sub, int l, double sum, long count) {
        nllWithoutSub[sub.ordinal()][l] += sum;
        nllWithoutSubCount[sub.ordinal()][l] += count;
    }

    /** Adds {@code other} into this (same model shape). */
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
        addInto(lensNll, o.lensNll);
        addInto(lensNllCount, o.lensNllCount);
        addInto(lensKl, o.lensKl);
        addInto(lensAgree, o.lensAgree);
        addInto(lensPositions, o.lensPositions);
        addInto(jacobian, o.jacobian);
        addInto(jacobianWindows, o.jacobianWindows);
        for (int k = 0; k < nllWithoutSub.length; k++) {
            addInto(nllWithoutSub[k], o.nllWithoutSub[k]);
            addInto(nllWithoutSubCount[k], o.nllWithoutSubCount[k]);
        }
        tokens += o.tokens;
        return this;
    }

    /**
     * The metrics these sums stand for, with angular_last and the losses, which the pass planner measures per
     * sequence ({@code lossWithoutLayer} null when no removal sweep ran).
     */
    public Metrics finish(double[][] angularLast, double loss, double[] lossWithoutLayer) {
        double[][] all = new double[layers][];
        for (int l = 0; l < layers; l++) all[l] = div(angAll[l], tokens);
        double[] bi = new double[layers];
        for (int l = 0; l < layers; l++) bi[l] = 1 - cosNext[l] / tokens;
        double[] var = new double[layers + 1];
        for (int d = 0; d <= layers; d++) var[d] = elemM2[d] / elemCount[d];
        Metrics.LogitLens lens = null;
        if (all(lensPositions)) {
            double[] lensLoss = new double[layers + 1], kl = new double[layers + 1], agree = new double[layers + 1];
            for (int d = 0; d <= layers; d++) {
                lensLoss[d] = lensNll[d] / lensNllCount[d];
                kl[d] = lensKl[d] / lensPositions[d];
                agree[d] = (double) lensAgree[d] / lensPositions[d];
            }
            lens = new Metrics.LogitLens(lensLoss, kl, agree);
        }
        double[] jac = null;
        if (all(jacobianWindows)) {
            jac = new double[layers];
            for (int l = 0; l < layers; l++) jac[l] = jacobian[l] / jacobianWindows[l];
        }
        double[][] withoutSub = new double[nllWithoutSub.length][];
        for (int k = 0; k < withoutSub.length; k++) {
            if (!all(nllWithoutSubCount[k])) continue;
            withoutSub[k] = new double[layers];
            for (int l = 0; l < layers; l++) withoutSub[k][l] = nllWithoutSub[k][l] / nllWithoutSubCount[k][l];
        }
        return new Metrics(layers, all, angularLast, bi, var, div(tokenVar, tokens), div(rmsSum, tokens), div(updateRatio, tokens),
                loss, lossWithoutLayer, lens, jac, withoutSub[Sublayer.ATTENTION.ordinal()], withoutSub[Sublayer.MLP.ordinal()]);
    }

    /** Every entry counted (a probe that did not run leaves zeros). */
    private static boolean all(long[] counts) {
        return counts.length > 0 && Arrays.stream(counts).allMatch(c -> c > 0);
    }

    private static void addInto(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }

    private static void addInto(long[] a, long[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
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
