package org.depthlens.probe;

import org.depthlens.stats.Uncertainty;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The probe metrics of one model on one data set, exactly as defined in docs/metrics.md, by registered key
 * (docs/design.md, "The metric registry"). Depth indices: {@code x[0]} is the embedding output, {@code x[L]} the
 * last block's output before the final norm. Every value is kept as rows: a number or a vector is one row, a
 * triangle ({@code [l][n-1]} for n = 1..L-l) one row per l. A metric whose probe did not run is absent. The named
 * accessors are shorthands for the metrics every analysis has or the report draws by hand.
 *
 * @param blocks      L, the number of decoder blocks
 * @param values      per metric key, its values as rows (unmodifiable, in the order put)
 * @param uncertainty bootstrap intervals of these numbers over windows (docs/metrics.md), or null
 */
public record Metrics(int blocks, Map<String, double[][]> values, Uncertainty uncertainty) {
    public Metrics {
        Map<String, double[][]> v = new LinkedHashMap<>();
        values.forEach((k, r) -> {
            if (r != null) v.put(k, r);
        });
        values = Collections.unmodifiableMap(v);
    }

    /**
     * The metrics of the paper's probes and of the probes of issue 14 (any of the last four may be null).
     *
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
    public Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence,
                   double[] variance, double[] tokenVariance, double[] rms, double[] updateRatio,
                   double loss, double[] lossWithoutLayer, LogitLens logitLens, double[] jacobianDeviation,
                   double[] lossWithoutAttention, double[] lossWithoutMlp) {
        this(blocks, probes(paper(angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss,
                lossWithoutLayer), logitLens, jacobianDeviation, lossWithoutAttention, lossWithoutMlp), null);
    }

    /** The paper's probes only (the probes of issue 14 switched off). */
    public Metrics(int blocks, double[][] angularAll, double[][] angularLast, double[] blockInfluence, double[] variance,
                   double[] tokenVariance, double[] rms, double[] updateRatio, double loss, double[] lossWithoutLayer) {
        this(blocks, paper(angularAll, angularLast, blockInfluence, variance, tokenVariance, rms, updateRatio, loss, lossWithoutLayer),
                null);
    }

    private static Map<String, double[][]> paper(double[][] angularAll, double[][] angularLast, double[] blockInfluence,
                                                 double[] variance, double[] tokenVariance, double[] rms, double[] updateRatio,
                                                 double loss, double[] lossWithoutLayer) {
        Map<String, double[][]> v = new LinkedHashMap<>();
        v.put("angular_all", angularAll);
        v.put("angular_last", angularLast);
        v.put("variance", row(variance));
        v.put("token_variance", row(tokenVariance));
        v.put("rms", row(rms));
        v.put("block_influence", row(blockInfluence));
        v.put("update_ratio", row(updateRatio));
        v.put("loss", new double[][] {{loss}});
        v.put("loss_without_layer", row(lossWithoutLayer));
        return v;
    }

    /** {@code v} with the probes of issue 14, in the registry's key order. */
    private static Map<String, double[][]> probes(Map<String, double[][]> v, LogitLens lens, double[] jacobian,
                                                  double[] withoutAttention, double[] withoutMlp) {
        v.put("logit_lens.loss", lens == null ? null : row(lens.loss()));
        v.put("logit_lens.kl", lens == null ? null : row(lens.kl()));
        v.put("logit_lens.top1_agreement", lens == null ? null : row(lens.top1Agreement()));
        v.put("jacobian_deviation", row(jacobian));
        v.put("loss_without_attention", row(withoutAttention));
        v.put("loss_without_mlp", row(withoutMlp));
        return v;
    }

    private static double[][] row(double[] v) {
        return v == null ? null : new double[][] {v};
    }

    /** The values of metric {@code key} as rows, or null when absent. */
    public double[][] rows(String key) {
        return values.get(key);
    }

    /** The values of vector metric {@code key}, or null when absent. */
    public double[] vector(String key) {
        double[][] r = values.get(key);
        return r == null ? null : r[0];
    }

    /** This with metric {@code key} set to {@code rows} (removed when null); a new key goes last. */
    public Metrics with(String key, double[][] rows) {
        Map<String, double[][]> v = new LinkedHashMap<>(values);
        if (rows == null) v.remove(key);
        else v.put(key, rows);
        return new Metrics(blocks, v, uncertainty);
    }

    /** This with the probes of issue 14 replaced (any may be null). */
    public Metrics withProbes(LogitLens lens, double[] jacobian, double[] withoutAttention, double[] withoutMlp) {
        return new Metrics(blocks, probes(new LinkedHashMap<>(values), lens, jacobian, withoutAttention, withoutMlp), uncertainty);
    }

    /** This with its intervals replaced. */
    public Metrics withUncertainty(Uncertainty u) {
        return new Metrics(blocks, values, u);
    }

    public double[][] angularAll() {
        return rows("angular_all");
    }

    public double[][] angularLast() {
        return rows("angular_last");
    }

    public double[] blockInfluence() {
        return vector("block_influence");
    }

    public double[] variance() {
        return vector("variance");
    }

    public double[] tokenVariance() {
        return vector("token_variance");
    }

    public double[] rms() {
        return vector("rms");
    }

    public double[] updateRatio() {
        return vector("update_ratio");
    }

    /** Mean next-token NLL (natural log); NaN when absent. */
    public double loss() {
        double[] v = vector("loss");
        return v == null ? Double.NaN : v[0];
    }

    public double[] lossWithoutLayer() {
        return vector("loss_without_layer");
    }

    public double[] jacobianDeviation() {
        return vector("jacobian_deviation");
    }

    public double[] lossWithoutAttention() {
        return vector("loss_without_attention");
    }

    public double[] lossWithoutMlp() {
        return vector("loss_without_mlp");
    }

    /** The logit lens, or null when it did not run. */
    public LogitLens logitLens() {
        double[] loss = vector("logit_lens.loss");
        return loss == null ? null : new LogitLens(loss, vector("logit_lens.kl"), vector("logit_lens.top1_agreement"));
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
