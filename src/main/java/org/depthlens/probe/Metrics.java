package org.depthlens.probe;

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
 */
public record Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence,
                      double[] variance, double[] tokenVariance, double[] rms, double[] updateRatio,
                      double loss, double[] lossWithoutLayer) {
}
