package org.depthlens.probe;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Watches the residual stream of one batch of equal-length sequences flow block by block and
 * accumulates {@link ProbeSums}. It keeps each depth's state (float32, on heap) because the angular
 * distance compares every pair of depths; dot products and norms are taken in double.
 */
public final class StreamProbe {
    private final int layers;
    private final int hidden;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float[][] states;
    private final double[][] norms;
    private final ProbeSums sums;

    public StreamProbe(int layers, int hidden, int batch, int seqLen) {
        this.layers = layers;
        this.hidden = hidden;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.states = new float[layers + 1][];
        this.norms = new double[layers + 1][];
        this.sums = new ProbeSums(layers, hidden);
        sums.tokens = rows;
        sums.sequences = batch;
    }

    /** Observes x[depth] ([B*T, H], sequence-major rows); depths must arrive in order 0..L. */
    public void observe(int depth, INDArray x) {
        if (depth > 0 && states[depth - 1] == null) throw new IllegalStateException("depth " + (depth - 1) + " not observed");
        float[] s = heapCopy(x);
        if (s.length != rows * hidden) throw new IllegalArgumentException("state has " + s.length + " values, expected " + rows * hidden);
        states[depth] = s;
        double[] nrm = new double[rows];
        double tokenVar = 0, rms = 0, sum = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double rs = 0, rss = 0;
            for (int i = 0; i < hidden; i++) {
                double v = s[base + i];
                rs += v;
                rss += v * v;
            }
            nrm[r] = Math.sqrt(rss);
            double mean = rs / hidden;
            double m2 = 0;
            for (int i = 0; i < hidden; i++) {
                double dv = s[base + i] - mean;
                m2 += dv * dv;
            }
            tokenVar += m2 / hidden;
            rms += nrm[r] / Math.sqrt(hidden);
            sum += rs;
        }
        norms[depth] = nrm;
        double mean = sum / ((double) rows * hidden);
        double m2 = 0;
        for (float v : s) {
            double dv = v - mean;
            m2 += dv * dv;
        }
        sums.tokenVar[depth] = tokenVar;
        sums.rmsSum[depth] = rms;
        sums.elemCount[depth] = (double) rows * hidden;
        sums.elemSum[depth] = sum;
        sums.elemM2[depth] = m2;
        for (int l = 0; l < depth; l++) angular(l, depth);
        if (depth > 0) updateRatio(depth - 1);
    }

    private static float[] heapCopy(INDArray x) {
        if (!x.isView() && x.ordering() == 'c' && x.offset() == 0 && x.data().length() == x.length()) return x.data().asFloat();
        return x.dup('c').data().asFloat();
    }

    private void angular(int l, int m) {
        float[] a = states[l], b = states[m];
        double[] na = norms[l], nb = norms[m];
        double all = 0, last = 0, cosSum = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double dot = 0;
            for (int i = 0; i < hidden; i++) dot += (double) a[base + i] * b[base + i];
            double cos = na[r] == 0 || nb[r] == 0 ? 1.0 : dot / (na[r] * nb[r]);
            cos = Math.max(-1.0, Math.min(1.0, cos));
            double ang = Math.acos(cos) / Math.PI;
            all += ang;
            if (r % seqLen == seqLen - 1) last += ang;
            cosSum += cos;
        }
        sums.angAll[l][m - l - 1] = all;
        sums.angLast[l][m - l - 1] = last;
        if (m == l + 1) sums.cosNext[l] = cosSum;
    }

    private void updateRatio(int l) {
        float[] a = states[l], b = states[l + 1];
        double total = 0;
        for (int r = 0; r < rows; r++) {
            int base = r * hidden;
            double d2 = 0;
            for (int i = 0; i < hidden; i++) {
                double dv = (double) b[base + i] - a[base + i];
                d2 += dv * dv;
            }
            total += norms[l][r] == 0 ? 0 : Math.sqrt(d2) / norms[l][r];
        }
        sums.updateRatio[l] = total;
    }

    /** The partial sums of this batch (losses are added by the caller). */
    public ProbeSums sums() {
        return sums;
    }

    public int batch() {
        return batch;
    }
}
