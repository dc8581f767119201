package org.depthlens.model;

import org.depthlens.model.family.AttentionSpec;
import org.depthlens.util.Par;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * Grouped-query attention (eager HF semantics) and the causal/sliding softmax core shared with MLA.
 *
 * <p>Per block: one product for q, k and v together (their weights are stacked at load), one row-parallel
 * Java pass that adds biases and applies q/k norms and RoPE in place, then per sequence and query head two
 * products on that sequence's rows around a softmax that applies the scale and the causal/sliding mask
 * itself (only the visible keys are exponentiated), and one product for o_proj. All products go through
 * {@link Gemm}, cut per sequence; all temporaries live in {@link Scratch}.
 */
public final class Attention {
    private Attention() {}

    /**
     * Self-attention of a GQA block on normed input {@code h} [rows, H] into {@code out} [rows, H] (the o_proj
     * output, bias included); {@code seq} are the sequences' rows, row r is position {@code r % seqLen}.
     */
    static void gqa(AttentionSpec.Gqa g, BlockWeights w, INDArray h, INDArray out, Gemm.Segments seq, int seqLen, int window,
                    Rope.Tables rope, double eps) {
        Scratch s = Scratch.get();
        int d = g.headDim(), nH = g.heads(), nKV = g.kvHeads(), t = seqLen;
        int rows = (int) h.rows(), qw = nH * d, kw = nKV * d, width = qw + 2 * kw;
        INDArray qkv = s.get("attn.qkv", rows, width);
        Gemm.xwT(h, w.get("attn.qkv"), qkv, seq);
        float[] bias = Ops.heap(w.get("attn.qkv.bias"));
        float[] qn = Ops.heap(w.get("attn.q_norm")), kn = Ops.heap(w.get("attn.k_norm"));
        boolean whole = g.qkNorm() == AttentionSpec.QkNorm.WHOLE;
        float[] qnHead = whole ? null : qn, knHead = whole ? null : kn;
        float clip = (float) g.clip();
        FloatBuffer f = Ops.floats(qkv);
        // biases, clipping (OLMo's clip_qkv), q/k norms and RoPE in place, row by row
        Par.rows(rows, Par.grain(rows, 16), (r0, r1) -> {
            float[] row = new float[width];
            for (int r = r0; r < r1; r++) {
                f.get(r * width, row);
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
                int pos = r % t;
                for (int hd = 0; hd < nH; hd++) {
                    if (qnHead != null) Ops.rmsNormRow(row, hd * d, row, hd * d, qnHead, eps, 1.0, d);
                    rope.rotate(row, hd * d, pos);
                }
                for (int kv = 0; kv < nKV; kv++) {
                    int off = qw + kv * d;
                    if (knHead != null) Ops.rmsNormRow(row, off, row, off, knHead, eps, 1.0, d);
                    rope.rotate(row, off, pos);
                }
                f.put(r * width, row);
            }
        });
        INDArray ctx = s.get("attn.ctx", rows, qw);
        core(qkv, 0, qkv, qw, qkv, qw + kw, ctx, seq, nH, nKV, d, d, g.scale(), window, (float) g.softcap());
        Gemm.xwT(ctx, w.get("attn.o"), out, seq);
        if (w.get("attn.o.bias") != null) out.addiRowVector(w.get("attn.o.bias"));
    }

    /**
     * softmax(q k^T * scale + mask) v for each sequence of {@code seq}, into {@code out} [rows, nH*dv] (rows outside
     * the sequences are left as they are). Query head h of a row is at columns {@code qCol + h*dq} of {@code q}, key
     * and value head h / (nH/nKV) at {@code kCol + kv*dq} of {@code k} and {@code vCol + kv*dv} of {@code v}, all
     * c-order with rows sequence-major, so no head is ever copied. Each (sequence, head) is two single-threaded
     * products on that sequence's own rows ({@link Gemm}): a head's values never depend on the other sequences.
     */
    static void core(INDArray q, int qCol, INDArray k, int kCol, INDArray v, int vCol, INDArray out, Gemm.Segments seq,
                     int nH, int nKV, int dq, int dv, double scale, int window) {
        core(q, qCol, k, kCol, v, vCol, out, seq, nH, nKV, dq, dv, scale, window, 0f);
    }

    /** {@link #core} with the scaled scores soft-capped first ({@code softcap} > 0, Gemma-2: {@link #softmaxCapped}). */
    static void core(INDArray q, int qCol, INDArray k, int kCol, INDArray v, int vCol, INDArray out, Gemm.Segments seq,
                     int nH, int nKV, int dq, int dv, double scale, int window, float softcap) {
        int rep = nH / nKV;
        int ldq = (int) q.columns(), ldk = (int) k.columns(), ldv = (int) v.columns(), ldo = (int) out.columns();
        if (ldo != nH * dv) throw new IllegalArgumentException("attention output has " + ldo + " columns, expected " + nH * dv);
        Par.rows(seq.count() * nH, 1, (i0, i1) -> {
            Scratch s = Scratch.get(); // this thread's
            for (int i = i0; i < i1; i++) {
                int b = i / nH, hd = i % nH, kv = hd / rep;
                int r0 = seq.starts()[b], len = seq.lengths()[b];
                if (len == 0) continue;
                INDArray scores = s.get("attn.scores", len, len);
                Gemm.sgemm(false, true, len, len, dq, Gemm.at(q, (long) r0 * ldq + qCol + (long) hd * dq), ldq,
                        Gemm.at(k, (long) r0 * ldk + kCol + (long) kv * dq), ldk, Gemm.at(scores, 0), len);
                if (softcap > 0) softmaxCapped(Ops.floats(scores), len, len, (float) scale, window, softcap);
                else softmax(Ops.floats(scores), len, len, (float) scale, window);
                Gemm.sgemm(false, false, len, dv, len, Gemm.at(scores, 0), len, Gemm.at(v, (long) r0 * ldv + vCol + (long) kv * dv), ldv,
                        Gemm.at(out, (long) r0 * ldo + (long) hd * dv), ldo);
            }
        });
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
}
