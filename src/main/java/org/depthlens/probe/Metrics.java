package org.depthlens.probe;

import org.depthlens.stats.Uncertainty;

/**
 * The probe metrics of one model on one data set, exactly as defined in shared/docs/metrics.md.
 * Depth indices: {@code x[0]} is the embedding output, {@code x[L]} the last block's output
 * before the final norm. Triangles are indexed {@code [l][n-1]} for n = 1..L-l.
 *
 * @param blocks           L, the number of decoder blocks
 * @param angularAll       mean over all tokens of arccos(cos(x[l], x[l+n]))/pi, L rows, row l has L-l entries
 * @param angularLast      the same over the last token of each sequence
 * @param blockInfluence   1 - mean cos(x[l], x[l+1]), length L
 * @param variance         population variance of all elements of x[l], length L+1
 * @param tokenVariance    mean over tokens of the variance over the hidden dim, length L+1
 * @param rms              mean over tokens of |x[l]|/sqrt(d), length L+1
 * @param updateRatio      mean over tokens of |x[l+1]-x[l]|/|x[l]|, length L
 * @param loss             mean next-token NLL (natural log)
 * @param lossWithoutLayer loss with block l replaced by the identity, length L (null if not computed)
 * @param logitLens        loss, KL to the final distribution and top-1 agreement of every depth 0..L (null if off)
 * @param jacobianDeviation |D - V| / |V| of block l's central difference along the centred input, length L (null if off)
 * @param lossWithoutAttention loss with only block l's attention output replaced by zero, length L (null if off)
 * @param lossWithoutMlp   loss with only block l's MLP output replaced by zero, length L (null if off)
 * @param uncertainty      bootstrap intervals of these numbers over windows (docs/metrics.md), or null
 */
public record Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence,
                      double[] variance, double[] tokenVariance, double[] rms, double[] updateRatio,
                      double loss, double[] lossWithoutLayer, LogitLens logitLens, double[] jacobianDeviation,
                      double[] lossWithoutAttention, double[] lossWithoutMlp, Uncertainty uncertainty) {
    /** Without intervals. */
    public Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence,
                   double[] variance, double[] tokenVariance, double[] rms, double[] updateRatio,
                   double loss, double[] lossWithoutLayer, LogitLens logitLens, double[] jacobianDeviation,
                   double[] lossWithoutAttention, double[] lossWithoutMlp) {
        this(blocks, angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss, lossWithoutLayer,
                logitLens, jacobianDeviation, lossWithoutAttention, lossWithoutMlp, null);
    }

    /** The paper's probes only (the probes of issue 14 switched off). */
    public Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence, double[] variance,
                   double[] tokenVariance, double[] rms, double[] updateRatio, double loss, double[] lossWithoutLayer) {
        this(blocks, angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss, lossWithoutLayer,
                null, null, null, null);
    }

    /** This with the probes of issue 14 replaced (any may be null). */
    public Metrics withProbes(LogitLens lens, double[] jacobian, double[] withoutAttention, double[] withoutMlp) {
        return new Metrics(blocks, angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss,
                lossWithoutLayer, lens, jacobian, withoutAttention, withoutMlp, uncertainty);
    }

    /** This with its intervals replaced. */
    public Metrics withUncertainty(Uncertainty u) {
        return new Metrics(blocks, angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss,
                lossWithoutLayer, logitLens, jacobianDeviation, lossWithoutAttention, lossWithoutMlp, u);
    }

    /**
     * The logit lens: p_l = softmax(head(norm(x[l]))) with the final norm recomputed on x[l] itself.
     *
     * @param loss          mean next-token NLL of p_l over positions 0..T-2 of every window, length L+1
     * @param kl            mean over all positions of KL(p_L || p_l) in nats, length L+1
     * @param top1Agreement fraction of all positions where argmax p_l = argmax p_L, length L+1
     */
    public record LogitLens(double[] loss, double[] kl, double[] top1Agreement) {
        /** The first depth whose top-1 agreement exceeds 0.5, or -1. */
        public int firstDepthAgreeing() {
            for (int l = 0; l < top1Agreement.length; l++) if (top1Agreement[l] > 0.5) return l;
            return -1;
        }
    }
}
