package org.depthlens.probe;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code angular_last} (docs/metrics.md), kept per sequence: for each sequence of a batch and each pair of
 * depths (l, l+n), arccos(clamp(cos(x[l][t], x[l+n][t]), -1, 1)) / pi at the sequence's last real row t.
 * This is the one computation of angular_last: the analysis reports its mean and both {@code analyze --prune}
 * and {@code eval --prune} choose the pruned blocks from it. Keeping the values per sequence (not summed per
 * batch) lets the mean be summed in sequence order, whatever way sequences were grouped into batches,
 * threads or machines. Only the last rows are kept (L+1 rows of H floats per sequence).
 */
public final class LastTokenAngles {
    private final int layers;
    private final int[] rows;
    private final float[][][] states;
    private final double[][] norms;
    private final double[][] angles;

    /** For one batch; {@code lastRows[b]} is the row of sequence b's last real token in the [B*T, H] states. */
    public LastTokenAngles(int layers, int[] lastRows) {
        this.layers = layers;
        this.rows = lastRows.clone();
        this.states = new float[layers + 1][][];
        this.norms = new double[layers + 1][];
        this.angles = new double[lastRows.length][pairs(layers)];
    }

    /** Values per sequence: L(L+1)/2, one per pair (l, n), n = 1..L-l. */
    public static int pairs(int layers) {
        return layers * (layers + 1) / 2;
    }

    /** Where pair (l, n) is kept: row l of the triangle holds L-l entries, n = 1..L-l. */
    public static int index(int layers, int l, int n) {
        return l * layers - l * (l - 1) / 2 + n - 1;
    }

    /** Observes x[depth] ([B*T, H]); depths arrive in order 0..L. */
    public void observe(int depth, INDArray x) {
        INDArray sel = Rows.gather(x, rows);
        int h = (int) sel.columns();
        float[] flat = sel.data().asFloat();
        sel.close();
        int batch = rows.length;
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
            int at = index(layers, l, depth - l);
            for (int b = 0; b < batch; b++) {
                double dot = 0;
                float[] a = states[l][b], c = s[b];
                for (int i = 0; i < h; i++) dot += (double) a[i] * c[i];
                double cos = norms[l][b] == 0 || nrm[b] == 0 ? 1.0 : dot / (norms[l][b] * nrm[b]);
                cos = Math.max(-1.0, Math.min(1.0, cos));
                angles[b][at] = Math.acos(cos) / Math.PI;
            }
        }
        if (depth == layers) {
            java.util.Arrays.fill(states, null); // done: let the copies go
        }
    }

    /** {@code [b][index(l, n)]}: the angle of every pair for each sequence of the batch (all depths observed). */
    public double[][] perSequence() {
        return angles;
    }

    /** angular_last[l][n-1]: the mean over sequences of their angles, summed in the order given. */
    public static double[][] mean(int layers, double[][] perSequence) {
        if (perSequence.length == 0) throw new IllegalStateException("no sequence observed");
        double[][] out = new double[layers][];
        for (int l = 0; l < layers; l++) {
            out[l] = new double[layers - l];
            for (int n = 1; n <= layers - l; n++) {
                int at = index(layers, l, n);
                double sum = 0;
                for (double[] s : perSequence) sum += s[at];
                out[l][n - 1] = sum / perSequence.length;
            }
        }
        return out;
    }
}
