package org.depthlens.eval;

import org.nd4j.linalg.api.ndarray.INDArray;

import java.util.function.BiConsumer;

/**
 * {@code angular_last} (docs/metrics.md) on sequences of different lengths padded on the right: the mean
 * over sequences of arccos(clamp(cos(x[l][t], x[l+n][t]), -1, 1)) / pi at each sequence's last real
 * position t, accumulated in double. Used by {@code eval --prune K} to choose the blocks to prune when
 * no probe pass ran; only the last rows of each depth are kept (L+1 rows of H floats per sequence).
 */
public final class LastTokenAngular {
    private final int layers;
    private final double[][] sums;
    private long sequences;

    public LastTokenAngular(int layers) {
        this.layers = layers;
        this.sums = new double[layers][];
        for (int l = 0; l < layers; l++) sums[l] = new double[layers - l];
    }

    /** An observer for one batch of {@code batch} rows of {@code seqLen}; {@code last[b]} is sequence b's last real position. */
    public BiConsumer<Integer, INDArray> observer(int batch, int seqLen, int[] last) {
        int[] rows = new int[batch];
        for (int b = 0; b < batch; b++) rows[b] = b * seqLen + last[b];
        float[][][] states = new float[layers + 1][][];
        double[][] norms = new double[layers + 1][];
        return (depth, x) -> {
            INDArray sel = Scorer.gather(x, rows);
            int h = (int) sel.columns();
            float[] flat = sel.data().asFloat();
            sel.close();
            float[][] s = new float[batch][h];
            double[] nrm = new double[batch];
            for (int b = 0; b < batch; b++) {
                System.arraycopy(flat, b * h, s[b], 0, h);
                double ss = 0;
                for (float v : s[b]) ss += (double) v * v;
                nrm[b] = Math.sqrt(ss);
            }
            states[depth] = s;
            norms[depth] = nrm;
            for (int l = 0; l < depth; l++) {
                double sum = 0;
                for (int b = 0; b < batch; b++) {
                    double dot = 0;
                    float[] a = states[l][b], c = s[b];
                    for (int i = 0; i < h; i++) dot += (double) a[i] * c[i];
                    double cos = norms[l][b] == 0 || nrm[b] == 0 ? 1.0 : dot / (norms[l][b] * nrm[b]);
                    cos = Math.max(-1.0, Math.min(1.0, cos));
                    sum += Math.acos(cos) / Math.PI;
                }
                sums[l][depth - l - 1] += sum;
            }
            if (depth == layers) sequences += batch;
        };
    }

    public long sequences() {
        return sequences;
    }

    /** angular_last[l][n-1], the mean over every sequence observed through all depths. */
    public double[][] finish() {
        if (sequences == 0) throw new IllegalStateException("no sequence observed");
        double[][] out = new double[layers][];
        for (int l = 0; l < layers; l++) {
            out[l] = new double[sums[l].length];
            for (int n = 0; n < out[l].length; n++) out[l][n] = sums[l][n] / sequences;
        }
        return out;
    }
}
