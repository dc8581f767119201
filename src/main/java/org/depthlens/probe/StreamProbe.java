package org.depthlens.probe;

import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Watches the residual stream of one batch of equal-length sequences (every row is a token) flow block by block and
 * accumulates one {@link ProbeSums} per sequence (window). It keeps each depth's state (float32, on heap) because the
 * angular distance compares every pair of depths; dot products and norms are taken in double.
 *
 * <p>Every sum runs over fixed pieces in a fixed order: a window's rows are cut from its first row into chunks of
 * {@link #GRAIN} rows, each chunk sums its rows in order, and the window's sum adds its chunks in order. The chunks
 * run in parallel, but a window's sums depend on nothing but its own states: not on the thread count, nor on the
 * other windows of the batch.
 */
public final class StreamProbe {
    private final int layers;
    private final int hidden;
    private final int batch;
    private final int seqLen;
    private final int rows;
    private final float[][] states;
    private final double[][] norms;
    private final ProbeSums[] sums;

    public StreamProbe(int layers, int hidden, int batch, int seqLen) {
        this.layers = layers;
        this.hidden = hidden;
        this.batch = batch;
        this.seqLen = seqLen;
        this.rows = batch * seqLen;
        this.states = new float[layers + 1][];
        this.norms = new double[layers + 1][];
        this.sums = new ProbeSums[batch];
        for (int b = 0; b < batch; b++) {
            sums[b] = new ProbeSums(layers, hidden);
            sums[b].tokens = seqLen;
        }
    }

    /** Rows per chunk of a window (its last chunk is shorter): fixed, so a window's sums are the same on any machine. */
    static final int GRAIN = 64;

    /** Chunks per window. */
    private int chunksPerWindow() {
        return (seqLen + GRAIN - 1) / GRAIN;
    }

    /** Runs {@code body} on every chunk (window b, rows [r0, r1)) in parallel; chunk c is window c / chunksPerWindow. */
    private void chunks(Par.Chunk body) {
        int per = chunksPerWindow();
        Par.rows(batch * per, 1, (i0, i1) -> {
            for (int i = i0; i < i1; i++) {
                int b = i / per, c = i % per;
                int r0 = b * seqLen + c * GRAIN;
                body.run(i, r0, Math.min(r0 + GRAIN, (b + 1) * seqLen));
            }
        });
    }

    /** Observes x[depth] ([B*T, H], sequence-major rows); depths must arrive in order 0..L. */
    public void observe(int depth, INDArray x) {
        if (depth > 0 && states[depth - 1] == null) throw new IllegalStateException("depth " + (depth - 1) + " not observed");
        float[] s = heapCopy(x);
        if (s.length != rows * hidden) throw new IllegalArgumentException("state has " + s.length + " values, expected " + rows * hidden);
        states[depth] = s;
        double[] nrm = new double[rows];
        int per = chunksPerWindow();
        // per chunk: token variance, rms, element sum
        double[][] part = new double[batch * per][3];
        chunks((c, r0, r1) -> {
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
        norms[depth] = nrm;
        double[] mean = new double[batch];
        for (int b = 0; b < batch; b++) {
            double tokenVar = 0, rms = 0, sum = 0;
            for (int c = b * per; c < (b + 1) * per; c++) {
                tokenVar += part[c][0];
                rms += part[c][1];
                sum += part[c][2];
            }
            sums[b].tokenVar[depth] = tokenVar;
            sums[b].rmsSum[depth] = rms;
            sums[b].elemCount[depth] = (double) seqLen * hidden;
            sums[b].elemSum[depth] = sum;
            mean[b] = sum / ((double) seqLen * hidden);
        }
        // centred sum of squares about each window's own mean (merged across windows with Chan's formula)
        double[] m2Part = new double[batch * per];
        chunks((c, r0, r1) -> {
            double mu = mean[c / per], m2 = 0;
            for (int i = r0 * hidden; i < r1 * hidden; i++) {
                double dv = s[i] - mu;
                m2 += dv * dv;
            }
            m2Part[c] = m2;
        });
        for (int b = 0; b < batch; b++) {
            double m2 = 0;
            for (int c = b * per; c < (b + 1) * per; c++) m2 += m2Part[c];
            sums[b].elemM2[depth] = m2;
        }
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
        int per = chunksPerWindow();
        // per chunk and earlier depth l: [all, cos sum]; plus the update ratio of block m-1
        double[][][] part = new double[batch * per][m][2];
        double[] upd = new double[batch * per];
        float[] b = states[m];
        double[] nb = norms[m];
        chunks((c, r0, r1) -> {
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
        for (int w = 0; w < batch; w++) {
            ProbeSums ws = sums[w];
            for (int l = 0; l < m; l++) {
                double all = 0, cosSum = 0;
                for (int c = w * per; c < (w + 1) * per; c++) {
                    all += part[c][l][0];
                    cosSum += part[c][l][1];
                }
                ws.angAll[l][m - l - 1] = all;
                if (m == l + 1) ws.cosNext[l] = cosSum;
            }
            double total = 0;
            for (int c = w * per; c < (w + 1) * per; c++) total += upd[c];
            ws.updateRatio[m - 1] = total;
        }
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

    /** The partial sums of each window of this batch, in batch order. */
    public java.util.List<ProbeSums> sums() {
        return java.util.List.of(sums);
    }
}
