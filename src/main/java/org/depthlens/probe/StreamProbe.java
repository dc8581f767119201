package org.depthlens.probe;

import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Watches the residual stream of one batch of equal-length sequences (every row is a token) flow block by block and
 * accumulates {@link ProbeSums}. It keeps each depth's state (float32, on heap) because the angular
 * distance compares every pair of depths; dot products and norms are taken in double.
 */
public final class StreamProbe {
    private final int layers;
    private final int hidden;
    private final int rows;
    private final float[][] states;
    private final double[][] norms;
    private final ProbeSums sums;

    public StreamProbe(int layers, int hidden, int batch, int seqLen) {
        this.layers = layers;
        this.hidden = hidden;
        this.rows = batch * seqLen;
        this.states = new float[layers + 1][];
        this.norms = new double[layers + 1][];
        this.sums = new ProbeSums(layers, hidden);
        sums.tokens = rows;
    }

    /**
     * Rows per chunk of the parallel loops. Fixed (not derived from the thread count), so the per-chunk
     * partial sums, added in chunk order, give the same doubles on any machine.
     */
    static final int GRAIN = 64;

    /** Observes x[depth] ([B*T, H], sequence-major rows); depths must arrive in order 0..L. */
    public void observe(int depth, INDArray x) {
        if (depth > 0 && states[depth - 1] == null) throw new IllegalStateException("depth " + (depth - 1) + " not observed");
        float[] s = heapCopy(x);
        if (s.length != rows * hidden) throw new IllegalArgumentException("state has " + s.length + " values, expected " + rows * hidden);
        states[depth] = s;
        double[] nrm = new double[rows];
        int chunks = Par.chunkCount(rows, GRAIN);
        // per chunk: token variance, rms, element sum
        double[][] part = new double[chunks][3];
        Par.chunks(rows, GRAIN, (c, r0, r1) -> {
            double tokenVar = 0, rms = 0, sum = 0;
            for (int r = r0; r < r1; r++) {
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
            part[c][0] = tokenVar;
            part[c][1] = rms;
            part[c][2] = sum;
        });
        double tokenVar = 0, rms = 0, sum = 0;
        for (double[] p : part) {
            tokenVar += p[0];
            rms += p[1];
            sum += p[2];
        }
        norms[depth] = nrm;
        double mean = sum / ((double) rows * hidden);
        double[] m2Part = new double[chunks];
        Par.chunks(rows, GRAIN, (c, r0, r1) -> {
            double m2 = 0;
            for (int i = r0 * hidden; i < r1 * hidden; i++) {
                double dv = s[i] - mean;
                m2 += dv * dv;
            }
            m2Part[c] = m2;
        });
        double m2 = 0;
        for (double v : m2Part) m2 += v;
        sums.tokenVar[depth] = tokenVar;
        sums.rmsSum[depth] = rms;
        sums.elemCount[depth] = (double) rows * hidden;
        sums.elemSum[depth] = sum;
        sums.elemM2[depth] = m2;
        if (depth > 0) angularAndUpdate(depth);
    }

    private static float[] heapCopy(INDArray x) {
        if (!x.isView() && x.ordering() == 'c' && x.offset() == 0 && x.data().length() == x.length()) return x.data().asFloat();
        return x.dup('c').data().asFloat();
    }

    /**
     * Angular distance between x[m] and every earlier depth over all tokens, cos(x[m-1], x[m])
     * and the update ratio of block m-1, in one parallel pass over row chunks: each chunk reads its rows of
     * x[m] once and compares them with the same rows of every earlier depth.
     */
    private void angularAndUpdate(int m) {
        int chunks = Par.chunkCount(rows, GRAIN);
        // per chunk and earlier depth l: [all, cos sum]; plus the update ratio of block m-1
        double[][][] part = new double[chunks][m][2];
        double[] upd = new double[chunks];
        float[] b = states[m];
        double[] nb = norms[m];
        Par.chunks(rows, GRAIN, (c, r0, r1) -> {
            for (int l = 0; l < m; l++) {
                float[] a = states[l];
                double[] na = norms[l];
                double all = 0, cosSum = 0;
                for (int r = r0; r < r1; r++) {
                    double cos = na[r] == 0 || nb[r] == 0 ? 1.0 : dot(a, b, r * hidden, hidden) / (na[r] * nb[r]);
                    cos = Math.max(-1.0, Math.min(1.0, cos));
                    all += Math.acos(cos) / Math.PI;
                    cosSum += cos;
                }
                part[c][l][0] = all;
                part[c][l][1] = cosSum;
            }
            float[] a = states[m - 1];
            double[] na = norms[m - 1];
            double total = 0;
            for (int r = r0; r < r1; r++) {
                int base = r * hidden;
                double d0 = 0, d1 = 0;
                int i = 0;
                for (; i + 1 < hidden; i += 2) {
                    double e0 = (double) b[base + i] - a[base + i], e1 = (double) b[base + i + 1] - a[base + i + 1];
                    d0 += e0 * e0;
                    d1 += e1 * e1;
                }
                for (; i < hidden; i++) {
                    double e = (double) b[base + i] - a[base + i];
                    d0 += e * e;
                }
                total += na[r] == 0 ? 0 : Math.sqrt(d0 + d1) / na[r];
            }
            upd[c] = total;
        });
        for (int l = 0; l < m; l++) {
            double all = 0, cosSum = 0;
            for (int c = 0; c < chunks; c++) {
                all += part[c][l][0];
                cosSum += part[c][l][1];
            }
            sums.angAll[l][m - l - 1] = all;
            if (m == l + 1) sums.cosNext[l] = cosSum;
        }
        double total = 0;
        for (double v : upd) total += v;
        sums.updateRatio[m - 1] = total;
    }

    /** Dot product of two rows in double (float products are exact in double), four partial sums. */
    private static double dot(float[] a, float[] b, int base, int n) {
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += (double) a[base + i] * b[base + i];
            s1 += (double) a[base + i + 1] * b[base + i + 1];
            s2 += (double) a[base + i + 2] * b[base + i + 2];
            s3 += (double) a[base + i + 3] * b[base + i + 3];
        }
        for (; i < n; i++) s0 += (double) a[base + i] * b[base + i];
        return (s0 + s1) + (s2 + s3);
    }

    /** The partial sums of this batch. */
    public ProbeSums sums() {
        return sums;
    }
}
