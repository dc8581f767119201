package org.depthlens.model;

import org.depthlens.model.family.AttentionSpec;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Grouped-query attention (eager HF semantics) and the causal/sliding softmax core shared with MLA.
 *
 * <p>Per block: one gemm for q, k and v together (their weights are stacked at load), one row-parallel
 * Java pass that adds biases, applies q/k norms and RoPE and lays the heads out for batched matmuls,
 * then per group of sequences two batched matmuls around a row-parallel softmax that applies the
 * scale and the causal/sliding mask itself (only the visible keys are exponentiated), and one gemm
 * for o_proj. All temporaries live in {@link Scratch}.
 */
public final class Attention {
    private Attention() {}

    /** Bytes of attention scores one batched matmul may produce; sequences are grouped to stay below it (tests lower it). */
    static long scoreBytes = 128L << 20;

    /**
     * Self-attention of a GQA block on normed input {@code h} [B*T, H] into {@code out} [B*T, H] (the o_proj
     * output, bias included).
     */
    static void gqa(AttentionSpec.Gqa g, BlockWeights w, INDArray h, INDArray out, int batch, int seqLen, int window,
                    Rope.Tables rope, double eps) {
        Scratch s = Scratch.get();
        int d = g.headDim(), nH = g.heads(), nKV = g.kvHeads(), rep = nH / nKV, t = seqLen;
        int rows = batch * seqLen, qw = nH * d, kw = nKV * d, width = qw + 2 * kw;
        INDArray qkv = s.get("attn.qkv", rows, width);
        Ops.gemm(h, w.get("attn.qkv"), qkv);
        INDArray qp = s.get("attn.q", (long) batch * nKV, (long) rep * t, d);
        INDArray kp = s.get("attn.k", (long) batch * nKV, t, d);
        INDArray vp = s.get("attn.v", (long) batch * nKV, t, d);
        float[] bias = Ops.heap(w.get("attn.qkv.bias"));
        float[] qn = Ops.heap(w.get("attn.q_norm")), kn = Ops.heap(w.get("attn.k_norm"));
        boolean whole = g.qkNorm() == AttentionSpec.QkNorm.WHOLE;
        float[] qnHead = whole ? null : qn, knHead = whole ? null : kn;
        float clip = (float) g.clip();
        FloatBuffer src = Ops.floats(qkv), qf = Ops.floats(qp), kf = Ops.floats(kp), vf = Ops.floats(vp);
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                src.get(r * width, row);
                if (bias != null) {
                    for (int i = 0; i < width; i++) row[i] += bias[i];
                }
                if (clip > 0) {
                    for (int i = 0; i < width; i++) row[i] = Math.max(-clip, Math.min(clip, row[i]));
                }
                if (whole) { // OLMo-2: one norm over all heads of q, one over all of k
                    Ops.rmsNormRow(row, 0, row, 0, qn, eps, 1.0, qw);
                    Ops.rmsNormRow(row, qw, row, qw, kn, eps, 1.0, kw);
                }
                int b = r / t, pos = r % t;
                for (int hd = 0; hd < nH; hd++) {
                    int off = hd * d;
                    if (qnHead != null) Ops.rmsNormRow(row, off, row, off, qnHead, eps, 1.0, d);
                    rope.rotate(row, off, pos);
                    int kv = hd / rep, rr = hd % rep;
                    qf.put((((b * nKV + kv) * rep + rr) * t + pos) * d, row, off, d);
                }
                for (int kv = 0; kv < nKV; kv++) {
                    int off = qw + kv * d;
                    if (knHead != null) Ops.rmsNormRow(row, off, row, off, knHead, eps, 1.0, d);
                    rope.rotate(row, off, pos);
                    kf.put(((b * nKV + kv) * t + pos) * d, row, off, d);
                    vf.put(((b * nKV + kv) * t + pos) * d, row, qw + kw + kv * d, d);
                }
            }
        });
        INDArray ctx = s.get("attn.ctx", rows, qw);
        corePacked(qp, kp, vp, ctx, batch, t, nH, nKV, d, d, g.scale(), window, (float) g.softcap());
        Ops.gemm(ctx, w.get("attn.o"), out);
        if (w.get("attn.o.bias") != null) out.addiRowVector(w.get("attn.o.bias"));
    }

    /**
     * softmax(q k^T * scale + mask) v per sequence. q [B*T, nH*dq], k [B*T, nKV*dq], v [B*T, nKV*dv], rows
     * sequence-major; query head h uses kv head h / (nH/nKV). Returns a new [B*T, nH*dv].
     */
    public static INDArray core(INDArray q, INDArray k, INDArray v, int batch, int seqLen, int nH, int nKV, int dq, int dv,
                                double scale, int window) {
        Scratch s = Scratch.get();
        int rep = nH / nKV, t = seqLen;
        INDArray qp = s.get("attn.q", (long) batch * nKV, (long) rep * t, dq);
        INDArray kp = s.get("attn.k", (long) batch * nKV, t, dq);
        INDArray vp = s.get("attn.v", (long) batch * nKV, t, dv);
        pack(c(q), qp, batch, t, nKV, rep, dq);
        pack(c(k), kp, batch, t, nKV, 1, dq);
        pack(c(v), vp, batch, t, nKV, 1, dv);
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, (long) batch * t, (long) nH * dv);
        corePacked(qp, kp, vp, out, batch, t, nH, nKV, dq, dv, scale, window, 0f);
        return out;
    }

    private static INDArray c(INDArray a) {
        return a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
    }

    /**
     * The attention core on packed heads: the query heads of each kv group stacked along the row dimension,
     * {@code qp} [B*nKV, rep*T, dq] (row r*T+i is query head kv*rep+r at position i), {@code kp} [B*nKV, T, dq],
     * {@code vp} [B*nKV, T, dv], so K and V are never copied per head. A group of sequences goes through one
     * batched matmul [G*nKV, rep*T, dq] x [G*nKV, T, dq]^T. Writes sequence-major rows [B*T, nH*dv] into {@code out}.
     */
    static void corePacked(INDArray qp, INDArray kp, INDArray vp, INDArray out, int batch, int t, int nH, int nKV,
                           int dq, int dv, double scale, int window, float softcap) {
        Scratch s = Scratch.get();
        int rep = nH / nKV;
        long perSeq = 4L * nH * t * t;
        int group = (int) Math.max(1, Math.min(batch, scoreBytes / perSeq));
        FloatBuffer of = Ops.floats(out);
        for (int b0 = 0; b0 < batch; b0 += group) {
            int g = Math.min(group, batch - b0);
            long m = (long) g * nKV;
            INDArray q = Scratch.view(qp.data(), qp.offset() + (long) b0 * nKV * rep * t * dq, m, (long) rep * t, dq);
            INDArray k = Scratch.view(kp.data(), kp.offset() + (long) b0 * nKV * t * dq, m, t, dq);
            INDArray v = Scratch.view(vp.data(), vp.offset() + (long) b0 * nKV * t * dv, m, t, dv);
            INDArray scores = s.get("attn.scores", m, (long) rep * t, t);
            Nd4j.matmul(q, k, scores, false, true, false);
            if (softcap > 0) softmaxCapped(Ops.floats(scores), (int) (m * rep * t), t, (float) scale, window, softcap);
            else softmax(Ops.floats(scores), (int) (m * rep * t), t, (float) scale, window);
            INDArray ctx = s.get("attn.pv", m, (long) rep * t, dv);
            Nd4j.matmul(scores, v, ctx, false, false, false);
            unpack(Ops.floats(ctx), of, g, b0, t, nKV, rep, dv);
        }
    }

    /**
     * In place on {@code rows} rows of {@code t} scores, row r being query position r % t: softmax over the
     * visible keys of {@code score * scale} (HF adds float32's most negative value to hidden keys, whose
     * weights then come out as exactly 0); hidden keys get 0. A query sees keys j <= i, and with a window W
     * only i - W < j (W keys including itself).
     */
    static void softmax(FloatBuffer f, int rows, int t, float scale, int window) {
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[t], tmp = new float[t];
            for (int r = r0; r < r1; r++) {
                int i = r % t;
                int lo = window > 0 ? Math.max(0, i - window + 1) : 0;
                int hi = i + 1;
                f.get(r * t + lo, row, lo, hi - lo);
                // max(score) * scale == max(score * scale): rounding is monotonic and scale > 0
                Ops.exp(row, row, lo, hi, scale, Ops.max(row, lo, hi) * scale, tmp);
                float inv = (float) (1.0 / Ops.sum(row, lo, hi));
                for (int j = lo; j < hi; j++) row[j] *= inv;
                Arrays.fill(row, 0, lo, 0f);
                Arrays.fill(row, hi, t, 0f);
                f.put(r * t, row, 0, t);
            }
        });
    }

    /**
     * {@link #softmax} of soft-capped scores (Gemma-2): each visible score becomes {@code cap·tanh(score·scale/cap)}
     * before the softmax, as HF caps the scaled scores before adding the mask. The capped scores and their
     * exponentials stay in double: capped scores sit near ±cap, where a float32 rounding alone would move each
     * weight by about 1e-6.
     */
    static void softmaxCapped(FloatBuffer f, int rows, int t, float scale, int window, float cap) {
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[t];
            double[] e = new double[t];
            for (int r = r0; r < r1; r++) {
                int i = r % t;
                int lo = window > 0 ? Math.max(0, i - window + 1) : 0;
                int hi = i + 1;
                f.get(r * t + lo, row, lo, hi - lo);
                double max = Double.NEGATIVE_INFINITY, sum = 0;
                for (int j = lo; j < hi; j++) {
                    e[j] = cap * Math.tanh((double) row[j] * scale / cap);
                    max = Math.max(max, e[j]);
                }
                for (int j = lo; j < hi; j++) {
                    e[j] = Math.exp(e[j] - max);
                    sum += e[j];
                }
                for (int j = lo; j < hi; j++) row[j] = (float) (e[j] / sum);
                Arrays.fill(row, 0, lo, 0f);
                Arrays.fill(row, hi, t, 0f);
                f.put(r * t, row, 0, t);
            }
        });
    }

    /** Gathers head runs of {@code d} floats from sequence-major rows [B*T, nKV*rep*d] into [B*nKV, rep*T, d] order. */
    private static void pack(INDArray src, INDArray dst, int batch, int t, int nKV, int rep, int d) {
        FloatBuffer sf = Ops.floats(src), df = Ops.floats(dst);
        int width = nKV * rep * d, rows = batch * t;
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                sf.get(r * width, row);
                int b = r / t, pos = r % t;
                for (int hd = 0; hd < nKV * rep; hd++) {
                    int kv = hd / rep, rr = hd % rep;
                    df.put((((b * nKV + kv) * rep + rr) * t + pos) * d, row, hd * d, d);
                }
            }
        });
    }

    /** Inverse of the packing for sequences [b0, b0+g): [g*nKV, rep*T, d] back to sequence-major rows of nH*d. */
    private static void unpack(FloatBuffer src, FloatBuffer dst, int g, int b0, int t, int nKV, int rep, int d) {
        int width = nKV * rep * d, rows = g * t;
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                int s = r / t, pos = r % t;
                for (int hd = 0; hd < nKV * rep; hd++) {
                    int kv = hd / rep, rr = hd % rep;
                    src.get((((s * nKV + kv) * rep + rr) * t + pos) * d, row, hd * d, d);
                }
                dst.put(((b0 + s) * t + pos) * width, row);
            }
        });
    }
}
