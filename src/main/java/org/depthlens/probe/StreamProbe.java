package org.depthlens.probe;

import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Watches the residual stream of one batch of equal-length sequences (every row is a token) flow block by block and
 * accumulates {@link ProbeSums}, one row of sums per sequence (window). It keeps each depth's state (float32, on
 * heap) because the angular distance compares every pair of depths; dot products and norms are taken in double.
 * Work is cut into chunks of at most {@link #GRAIN} rows that never cross a window, and each window's sums add its
 * chunks in order: a window's numbers do not depend on which other windows share its batch.
 */
public final class StreamProbe {
    private final int layers;
    private final int hidden;
    private final int rows;
    private final int seqLen;
    private final int[] members;
    /** Chunks per window, and in all. */
    private final int perWindow;
    private final int chunks;
    private final float[][] states;
    private final double[][] norms;
    private final ProbeSums sums;

    /** For a batch whose sequences are windows 0..batch-1. */
    public StreamProbe(int layers, int hidden, int batch, int seqLen) {
        this(layers, hidden, java.util.stream.IntStream.range(0, batch).toArray(), seqLen);
    }

    /** For a batch of the windows {@code members} (the run's indices of its sequences), each {@code seqLen} rows. */
    public StreamProbe(int layers, int hidden, int[] members, int seqLen) {
        this.layers = layers;
        this.hidden = hidden;
        this.seqLen = seqLen;
        this.members = members.clone();
        this.rows = members.length * seqLen;
        this.perWindow = (seqLen + GRAIN - 1) / GRAIN;
        this.chunks = perWindow * members.length;
        this.states = new float[layers + 1][];
        this.norms = new double[layers + 1][];
        this.sums = new ProbeSums(layers, hidden);
        for (int m : members) sums.row(m)[sums.tokens] = seqLen;
    }

    /** Rows [from, to) of chunk c: chunks of a window never reach into the next one. */
    private int chunkFrom(int c) {
        return (c / perWindow) * seqLen + (c % perWindow) * GRAIN;
    }

    private int chunkTo(int c) {
        return Math.min(chunkFrom(c) + GRAIN, (c / perWindow + 1) * seqLen);
    }

    /** Runs {@code body} on every chunk, in parallel. */
    private void eachChunk(Par.Chunk body) {
        Par.rows(chunks, 1, (c0, c1) -> {
            for (int c = c0; c < c1; c++) body.run(c, chunkFrom(c), chunkTo(c));
        });
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
        // per chunk: token variance, rms, element sum
        double[][] part = new double[chunks][3];
        eachChunk((c, r0, r1) -> {
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
        double[] mean = new double[members.length];
        for (int w = 0; w < members.length; w++) {
            double tokenVar = 0, rms = 0, sum = 0;
            for (int c = w * perWindow; c < (w + 1) * perWindow; c++) {
                tokenVar += part[c][0];
                rms += part[c][1];
                sum += part[c][2];
            }
            double[] row = sums.row(members[w]);
            row[sums.tokenVar + depth] = tokenVar;
            row[sums.rms + depth] = rms;
            row[sums.count + depth] = (double) seqLen * hidden;
            row[sums.sum + depth] = sum;
            mean[w] = sum / ((double) seqLen * hidden);
        }
        double[] m2Part = new double[chunks];
        eachChunk((c, r0, r1) -> {
            double mu = mean[c / perWindow];
            double m2 = 0;
            for (int i = r0 * hidden; i < r1 * hidden; i++) {
                double dv = s[i] - mu;
                m2 += dv * dv;
            }
            m2Part[c] = m2;
        });
        for (int w = 0; w < members.length; w++) {
            double m2 = 0;
            for (int c = w * perWindow; c < (w + 1) * perWindow; c++) m2 += m2Part[c];
            sums.row(members[w])[sums.m2 + depth] = m2;
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
        // per chunk and earlier depth l: [all, cos sum]; plus the update ratio of block m-1
        double[][][] part = new double[chunks][m][2];
        double[] upd = new double[chunks];
        float[] b = states[m];
        double[] nb = norms[m];
        eachChunk((c, r0, r1) -> {
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
        for (int w = 0; w < members.length; w++) {
            double[] row = sums.row(members[w]);
            for (int l = 0; l < m; l++) {
                double all = 0, cosSum = 0;
                for (int c = w * perWindow; c < (w + 1) * perWindow; c++) {
                    all += part[c][l][0];
                    cosSum += part[c][l][1];
                }
                row[LastTokenAngles.index(layers, l, m - l)] = all;
                if (m == l + 1) row[sums.cos + l] = cosSum;
            }
            double total = 0;
            for (int c = w * perWindow; c < (w + 1) * perWindow; c++) total += upd[c];
            row[sums.update + m - 1] = total;
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

    /** The partial sums of this batch. */
    public ProbeSums sums() {
        return sums;
    }
}
