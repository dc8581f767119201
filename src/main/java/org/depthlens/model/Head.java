package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.util.Par;
import org.depthlens.weights.Checkpoint;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;
import java.util.List;

/**
 * Final norm and the LM head (with the final logit soft-capping of the model's numerics, if any). The head
 * matrix is read in chunks of vocabulary rows (a 152k x 8192 head is 5 GB in float32, larger than a block),
 * and every chunk serves all stream states at once.
 */
public final class Head {
    /** Float32 bytes of one vocabulary chunk. */
    static final long CHUNK_BYTES = 256L << 20;

    private final Architecture arch;
    private final Checkpoint checkpoint;
    private final Norm norm;
    private final String headName;
    /** Final logit soft-capping, 0 for none. */
    private final float softcap;

    public Head(Architecture arch, Checkpoint checkpoint) {
        this.arch = arch;
        this.checkpoint = checkpoint;
        WeightPool pool = new WeightPool(checkpoint);
        INDArray gain = null, bias = null;
        for (org.depthlens.model.family.Weight w : arch.finalNormWeights()) {
            INDArray v = pool.load(w);
            if (w.role().endsWith(".bias")) bias = v;
            else gain = v;
        }
        this.norm = Norm.of(arch.normSpec(), gain, bias);
        this.headName = arch.headName();
        checkpoint.require(headName, arch.vocab(), arch.hidden());
        this.softcap = (float) arch.numerics().logitSoftcap();
    }

    /** norm(x), the final hidden state HF returns as the last entry of output_hidden_states. */
    public INDArray normed(INDArray x) {
        int width = arch.hidden();
        INDArray in = x.isView() || x.ordering() != 'c' ? x.dup('c') : x;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        norm.apply(Ops.floats(in), Ops.floats(out), 1.0, (int) (x.length() / width), width);
        return out;
    }

    /**
     * Final logit soft-capping {@code cap·tanh(z/cap)} of {@code rows x n} logits in place (no-op without capping);
     * on the calling thread, since the head already runs one piece of rows per thread.
     */
    private void cap(INDArray logits) {
        if (softcap == 0) return;
        FloatBuffer f = Ops.floats(logits);
        int rows = (int) logits.rows(), n = (int) logits.columns();
        double c = softcap;
        float[] row = new float[n];
        for (int r = 0; r < rows; r++) {
            f.get(r * n, row);
            for (int i = 0; i < n; i++) row[i] = (float) (c * Math.tanh(row[i] / c));
            f.put(r * n, row);
        }
    }

    /** Vocabulary rows per chunk at most, so that a piece's logits stay small. */
    static final int MAX_CHUNK_ROWS = 32768;

    /**
     * Vocabulary rows per chunk: fixed by the model alone (never by how many rows are read), since the running
     * log-sum-exp of a row is summed chunk by chunk.
     */
    private int chunkRows() {
        long byHead = CHUNK_BYTES / (4L * arch.hidden());
        return (int) Math.max(1, Math.min(arch.vocab(), Math.max(256, Math.min(byHead, MAX_CHUNK_ROWS))));
    }

    /** Full logits [N, V] of stream state x holding sequences of {@code seqLen} rows (for trace; memory N x V floats). */
    public INDArray logits(INDArray x, int seqLen) {
        INDArray h = normed(x);
        Gemm.Segments seq = Gemm.Segments.uniform((int) (h.rows() / seqLen), seqLen);
        INDArray out = Nd4j.create(DataType.FLOAT, h.rows(), arch.vocab());
        int chunk = chunkRows();
        for (int v0 = 0; v0 < arch.vocab(); v0 += chunk) {
            int n = Math.min(chunk, arch.vocab() - v0);
            INDArray buf = Nd4j.create(DataType.FLOAT, new long[] {n, arch.hidden()}, 'c');
            checkpoint.loadRows(headName, v0, n, buf);
            INDArray part = Ops.linear(h, buf, null, seq);
            cap(part);
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(v0, v0 + n)).assign(part);
        }
        return out;
    }

    /**
     * Summed next-token negative log-likelihood of each state: {@code targets[r]} is the id row r must
     * predict, or -1 for rows that predict nothing. Returns one [sum, count] pair per state, in double.
     */
    public double[][] nll(List<INDArray> states, int[] targets, Gemm.Segments seq) {
        double[][] lp = logProbs(states, targets, seq);
        double[][] out = new double[lp.length][2];
        for (int s = 0; s < lp.length; s++) {
            for (int r = 0; r < targets.length; r++) {
                if (targets[r] < 0) continue;
                out[s][0] -= lp[s][r];
                out[s][1] += 1;
            }
        }
        return out;
    }

    /**
     * Per-row next-token log-probabilities of each state: {@code out[s][r] = log p(targets[r] | row r of
     * state s)}, in double, NaN where {@code targets[r] < 0}. Callers sum rows into spans (a continuation,
     * a document window). Pass only the rows that are scored: the cost is rows x V x H per state.
     *
     * @param seq the rows of each sequence (their products are cut per sequence, {@link Gemm}); must cover every row
     */
    public double[][] logProbs(List<INDArray> states, int[] targets, Gemm.Segments seq) {
        return read(states, targets, -1, seq).logProb();
    }

    /**
     * What the head reads from each state, per row: {@code logProb[s][r]} as in {@link #logProbs};
     * {@code kl[s][r] = KL(p_ref || p_s)} in nats against state {@code reference} (null without one);
     * {@code argmax[s][r]}, the most likely id (the lowest on ties).
     */
    public record Readings(double[][] logProb, double[][] kl, int[][] argmax) {
    }

    /**
     * One streaming pass over the head for all states: the head is read in vocabulary chunks, each
     * decoded once for every state, so 152k-vocabulary heads never materialise [rows, V] logits. Per chunk,
     * piece of rows ({@link Gemm}: a piece never spans two sequences) and state, one product into scratch
     * memory, then the piece's rows keep a running max and sum of exponentials (in double), the target's
     * logit and the running argmax. The chunks are fixed by the model, so every row's numbers are the same
     * whatever other rows are read with it.
     *
     * <p>With a {@code reference} state (the logit lens: x[L] against every depth), KL(p_ref || p_s) comes
     * out of the same pass: with z the logits and lse their log-sum-exp,
     * {@code KL = sum_v p_ref(v) (z_ref(v) - z_s(v)) - lse_ref + lse_s}; the first term is kept as
     * {@code C = sum_v exp(z_ref(v) - m_ref) (z_ref(v) - z_s(v))}, rescaled like the sum of exponentials
     * whenever the reference's running max m_ref grows, and divided by the reference's sum at the end.
     * The reference's chunk of logits is computed first and kept while the other states use it. For the
     * reference itself C = 0 and the KL is exactly 0.
     *
     * @param reference index of the reference state in {@code states}, or -1 for no KL
     * @param seq       the rows of each sequence; must cover every row
     */
    public Readings read(List<INDArray> states, int[] targets, int reference, Gemm.Segments seq) {
        List<INDArray> normed = new java.util.ArrayList<>();
        for (INDArray x : states) normed.add(normed(x));
        return readNormed(normed, targets, reference, seq);
    }

    /** {@link #read} of states already through the final norm ({@link #normed}): a caller that keeps many depths keeps only these. */
    public Readings readNormed(List<INDArray> normedStates, int[] targets, int reference, Gemm.Segments seq) {
        int k = normedStates.size();
        int h = arch.hidden();
        int rows = targets.length;
        for (int t : targets) {
            if (t >= arch.vocab()) throw new IllegalArgumentException("target id " + t + " outside the vocabulary of " + arch.vocab());
        }
        if (reference >= k) throw new IllegalArgumentException("reference state " + reference + " of " + k);
        if (!seq.covers(rows)) throw new IllegalArgumentException("the sequences do not cover the " + rows + " rows read");
        INDArray[] normed = new INDArray[k];
        for (int s = 0; s < k; s++) {
            INDArray a = normedStates.get(s);
            if (a.rows() != rows) throw new IllegalArgumentException("state " + s + " has " + a.rows() + " rows, targets " + rows);
            normed[s] = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
        }
        boolean withKl = reference >= 0;
        double[][] max = new double[k][rows];
        double[][] sum = new double[k][rows];
        double[][] target = new double[k][rows];
        double[][] cross = withKl ? new double[k][rows] : null;
        float[][] best = new float[k][rows];
        int[][] argmax = new int[k][rows];
        for (double[] m : max) java.util.Arrays.fill(m, Double.NEGATIVE_INFINITY);
        for (float[] b : best) java.util.Arrays.fill(b, Float.NEGATIVE_INFINITY);
        int chunk = chunkRows();
        int[][] pieces = seq.pieces();
        Scratch scratch = Scratch.get();
        for (int v0 = 0; v0 < arch.vocab(); v0 += chunk) {
            int n = Math.min(chunk, arch.vocab() - v0), from = v0;
            INDArray buf = scratch.get("head.rows", n, h);
            checkpoint.loadRows(headName, v0, n, buf);
            Par.rows(pieces.length, 1, (p0, p1) -> {
                Scratch ts = Scratch.get(); // this thread's
                double[] refMaxBefore = withKl ? new double[Gemm.ROWS] : null;
                for (int p = p0; p < p1; p++) {
                    int r0 = pieces[p][0], m = pieces[p][1];
                    FloatBuffer refLogits = null, refWeights = null;
                    if (withKl) {
                        INDArray rl = ts.get("head.refLogits", m, n), rw = ts.get("head.refWeights", m, n);
                        Gemm.sgemm(false, true, m, n, h, Gemm.at(normed[reference], (long) r0 * h), h, Gemm.at(buf, 0), h, Gemm.at(rl, 0), n);
                        cap(rl);
                        refLogits = Ops.floats(rl);
                        refWeights = Ops.floats(rw);
                        System.arraycopy(max[reference], r0, refMaxBefore, 0, m);
                        scanChunk(refLogits, refWeights, from, n, targets, r0, m, max[reference], sum[reference], target[reference],
                                best[reference], argmax[reference]);
                    }
                    INDArray logits = ts.get("head.logits", m, n);
                    FloatBuffer lf = Ops.floats(logits);
                    for (int s = 0; s < k; s++) {
                        if (s == reference) continue;
                        Gemm.sgemm(false, true, m, n, h, Gemm.at(normed[s], (long) r0 * h), h, Gemm.at(buf, 0), h, Gemm.at(logits, 0), n);
                        cap(logits);
                        scanChunk(lf, null, from, n, targets, r0, m, max[s], sum[s], target[s], best[s], argmax[s]);
                        if (withKl) crossChunk(lf, refLogits, refWeights, n, r0, m, refMaxBefore, max[reference], cross[s]);
                    }
                }
            });
        }
        double[][] logProb = new double[k][rows];
        double[][] kl = withKl ? new double[k][rows] : null;
        for (int s = 0; s < k; s++) {
            for (int r = 0; r < rows; r++) {
                double lse = max[s][r] + Math.log(sum[s][r]);
                logProb[s][r] = targets[r] < 0 ? Double.NaN : target[s][r] - lse;
                if (withKl) {
                    double lseRef = max[reference][r] + Math.log(sum[reference][r]);
                    kl[s][r] = s == reference ? 0 : cross[s][r] / sum[reference][r] - lseRef + lse;
                }
            }
        }
        return new Readings(logProb, kl, argmax);
    }

    /**
     * Folds one chunk of logits of rows {@code [r0, r0+m)} ({@code lf} holds their m x n logits, ids v0..v0+n-1) into
     * the running max, sum of exponentials, target logit and argmax of each row; {@code weightsOut}, when given,
     * receives exp(z - new running max).
     */
    private static void scanChunk(FloatBuffer lf, FloatBuffer weightsOut, int v0, int n, int[] targets, int r0, int m,
                                  double[] mx, double[] sm, double[] tg, float[] best, int[] arg) {
        float[] row = new float[n], tmp = new float[n];
        for (int i = 0; i < m; i++) {
            int r = r0 + i;
            lf.get(i * n, row);
            int tgt = targets[r];
            if (tgt >= v0 && tgt < v0 + n) tg[r] = row[tgt - v0];
            int at = 0;
            for (int j = 1; j < n; j++) if (row[j] > row[at]) at = j;
            float mv = row[at];
            if (mv > best[r]) {
                best[r] = mv;
                arg[r] = v0 + at;
            }
            double newMax = Math.max(mx[r], mv);
            float shift = (float) newMax;
            Ops.exp(row, row, 0, n, 1f, shift, tmp);
            double cs = Ops.sum(row, 0, n);
            sm[r] = (mx[r] == Double.NEGATIVE_INFINITY ? 0 : sm[r] * Math.exp(mx[r] - newMax)) + cs;
            mx[r] = newMax;
            if (weightsOut != null) weightsOut.put(i * n, row);
        }
    }

    /**
     * {@code C = C exp(mBefore - mNow) + sum_v w(v) (z_ref(v) - z(v))} for rows {@code [r0, r0+m)}, with w = exp(z_ref -
     * mNow) from the reference's scan of the same chunk; {@code mBefore[i]} is row r0+i's.
     */
    private static void crossChunk(FloatBuffer lf, FloatBuffer refLogits, FloatBuffer refWeights, int n, int r0, int m,
                                   double[] mBefore, double[] mNow, double[] cross) {
        float[] z = new float[n], zr = new float[n], w = new float[n];
        for (int i = 0; i < m; i++) {
            int r = r0 + i;
            lf.get(i * n, z);
            refLogits.get(i * n, zr);
            refWeights.get(i * n, w);
            double c = 0;
            for (int j = 0; j < n; j++) c += (double) w[j] * ((double) zr[j] - z[j]);
            cross[r] = (mBefore[i] == Double.NEGATIVE_INFINITY ? 0 : cross[r] * Math.exp(mBefore[i] - mNow[r])) + c;
        }
    }
}
