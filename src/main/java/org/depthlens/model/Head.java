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
 * Final RMSNorm and the LM head. The head matrix is read in chunks of vocabulary rows (a 152k x 8192
 * head is 5 GB in float32, larger than a block), and every chunk serves all stream states at once.
 */
public final class Head {
    /** Float32 bytes of one vocabulary chunk. */
    static final long CHUNK_BYTES = 256L << 20;

    private final Architecture arch;
    private final Checkpoint checkpoint;
    private final INDArray norm;
    private final String headName;

    public Head(Architecture arch, Checkpoint checkpoint) {
        this.arch = arch;
        this.checkpoint = checkpoint;
        this.norm = Nd4j.create(DataType.FLOAT, arch.hidden());
        checkpoint.require(Architecture.FINAL_NORM, arch.hidden());
        checkpoint.loadInto(Architecture.FINAL_NORM, norm);
        this.headName = arch.headName();
        checkpoint.require(headName, arch.vocab(), arch.hidden());
    }

    /** norm(x), the final hidden state HF returns as the last entry of output_hidden_states. */
    public INDArray normed(INDArray x) {
        return Ops.rmsNorm(x, norm, arch.eps(), 1.0, arch.hidden());
    }

    /** Float32 bytes of the logits of one chunk for all rows of one state. */
    static final long LOGITS_BYTES = 64L << 20;

    /** Vocabulary rows per chunk: bounded by the head chunk and by the [rows, chunk] logits it produces. */
    private int chunkRows(long rows) {
        long byHead = CHUNK_BYTES / (4L * arch.hidden());
        long byLogits = LOGITS_BYTES / (4L * Math.max(1, rows));
        return (int) Math.max(1, Math.min(arch.vocab(), Math.max(256, Math.min(byHead, byLogits))));
    }

    /** Full logits [N, V] of stream state x (for trace; memory N x V floats). */
    public INDArray logits(INDArray x) {
        INDArray h = normed(x);
        INDArray out = Nd4j.create(DataType.FLOAT, h.rows(), arch.vocab());
        int chunk = chunkRows(1);
        INDArray buf = null;
        for (int v0 = 0; v0 < arch.vocab(); v0 += chunk) {
            int n = Math.min(chunk, arch.vocab() - v0);
            if (buf == null || buf.rows() != n) buf = Nd4j.create(DataType.FLOAT, new long[] {n, arch.hidden()}, 'c');
            checkpoint.loadRows(headName, v0, n, buf);
            INDArray part = Ops.linear(h, buf, null);
            out.get(NDArrayIndex.all(), NDArrayIndex.interval(v0, v0 + n)).assign(part);
        }
        return out;
    }

    /**
     * Summed next-token negative log-likelihood of each state: {@code targets[r]} is the id row r must
     * predict, or -1 for rows that predict nothing. Returns one [sum, count] pair per state, in double.
     */
    public double[][] nll(List<INDArray> states, int[] targets) {
        double[][] lp = logProbs(states, targets);
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
     * a document window). The head is read in vocabulary chunks, each decoded once for every state, so
     * 152k-vocabulary heads never materialise [rows, V] logits: per chunk and state a gemm into scratch
     * memory, then one row-parallel pass keeps a running max and sum of exponentials per row (in double).
     * Pass only the rows that are scored: the cost is rows x V x H per state.
     */
    public double[][] logProbs(List<INDArray> states, int[] targets) {
        int k = states.size();
        int h = arch.hidden();
        int rows = targets.length;
        for (int t : targets) {
            if (t >= arch.vocab()) throw new IllegalArgumentException("target id " + t + " outside the vocabulary of " + arch.vocab());
        }
        INDArray[] normed = new INDArray[k];
        for (int s = 0; s < k; s++) {
            if (states.get(s).rows() != rows) {
                throw new IllegalArgumentException("state " + s + " has " + states.get(s).rows() + " rows, targets " + rows);
            }
            normed[s] = normed(states.get(s));
        }
        double[][] max = new double[k][rows];
        double[][] sum = new double[k][rows];
        double[][] target = new double[k][rows];
        for (double[] m : max) java.util.Arrays.fill(m, Double.NEGATIVE_INFINITY);
        int chunk = chunkRows(rows);
        Scratch scratch = Scratch.get();
        for (int v0 = 0; v0 < arch.vocab(); v0 += chunk) {
            int n = Math.min(chunk, arch.vocab() - v0);
            INDArray buf = scratch.get("head.rows", n, h);
            checkpoint.loadRows(headName, v0, n, buf);
            INDArray logits = scratch.get("head.logits", rows, n);
            FloatBuffer lf = Ops.floats(logits);
            int base = v0;
            for (int s = 0; s < k; s++) {
                Ops.gemm(normed[s], buf, logits);
                double[] mx = max[s], sm = sum[s], tg = target[s];
                Par.rows(rows, Par.grain(rows, 4), (r0, r1) -> {
                    float[] row = new float[n], tmp = new float[n];
                    for (int r = r0; r < r1; r++) {
                        lf.get(r * n, row);
                        int tgt = targets[r];
                        if (tgt >= base && tgt < base + n) tg[r] = row[tgt - base];
                        float m = Ops.max(row, 0, n);
                        Ops.exp(row, row, 0, n, 1f, m, tmp);
                        double cs = Ops.sum(row, 0, n);
                        if (m > mx[r]) {
                            sm[r] = sm[r] * Math.exp(mx[r] - m) + cs;
                            mx[r] = m;
                        } else {
                            sm[r] += cs * Math.exp(m - mx[r]);
                        }
                    }
                });
            }
        }
        double[][] out = new double[k][rows];
        for (int s = 0; s < k; s++) {
            for (int r = 0; r < rows; r++) {
                out[s][r] = targets[r] < 0 ? Double.NaN : target[s][r] - max[s][r] - Math.log(sum[s][r]);
            }
        }
        return out;
    }
}
