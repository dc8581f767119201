package org.depthlens.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.FloatBuffer;

/** Grouped-query attention (eager HF semantics) and the causal/sliding softmax core shared with MLA. */
public final class Attention {
    private Attention() {}

    /** Self-attention of a GQA block on normed input {@code h} [B*T, H]; returns o_proj output [B*T, H]. */
    public static INDArray gqa(AttentionSpec.Gqa g, BlockWeights w, INDArray h, int batch, int seqLen, int window,
                               Rope.Tables rope, double eps) {
        INDArray q = Ops.linear(h, w.get("attn.q"), w.get("attn.q.bias"));
        INDArray k = Ops.linear(h, w.get("attn.k"), w.get("attn.k.bias"));
        INDArray v = Ops.linear(h, w.get("attn.v"), w.get("attn.v.bias"));
        int d = g.headDim();
        if (g.qkNorm()) {
            q = Ops.rmsNorm(q, w.get("attn.q_norm"), eps, 1.0, d);
            k = Ops.rmsNorm(k, w.get("attn.k_norm"), eps, 1.0, d);
        }
        int rows = batch * seqLen;
        rope.apply(Ops.floats(q), rows, g.heads(), d, 0, g.heads() * d);
        rope.apply(Ops.floats(k), rows, g.kvHeads(), d, 0, g.kvHeads() * d);
        INDArray ctx = core(q, k, v, batch, seqLen, g.heads(), g.kvHeads(), d, d, Math.pow(d, -0.5), window);
        return Ops.linear(ctx, w.get("attn.o"), w.get("attn.o.bias"));
    }

    /** Bytes of attention scores one batched matmul may produce; sequences are grouped to stay below it. */
    static final long SCORE_BYTES = 128L << 20;

    /**
     * softmax(q k^T * scale + mask) v per sequence. q [B*T, nH*dq], k [B*T, nKV*dq], v [B*T, nKV*dv], rows
     * sequence-major; query head h uses kv head h / (nH/nKV). The query heads of each kv group are stacked
     * along the row dimension, so K and V are never copied per head, and a group of sequences goes through
     * one batched matmul [G*nKV, rep*T, dq] x [G*nKV, T, dq]^T. Returns [B*T, nH*dv].
     */
    public static INDArray core(INDArray q, INDArray k, INDArray v, int batch, int seqLen, int nH, int nKV, int dq, int dv,
                                double scale, int window) {
        int rep = nH / nKV;
        int t = seqLen;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, (long) batch * t, (long) nH * dv);
        INDArray mask = mask(t, rep, window);
        long perSeq = 4L * nH * t * t;
        int group = (int) Math.max(1, Math.min(batch, SCORE_BYTES / perSeq));
        FloatBuffer qf = Ops.floats(q), kf = Ops.floats(k), vf = Ops.floats(v), of = Ops.floats(out);
        for (int b0 = 0; b0 < batch; b0 += group) {
            int g = Math.min(group, batch - b0);
            INDArray qb = Nd4j.createUninitialized(DataType.FLOAT, (long) g * nKV, (long) rep * t, dq);
            INDArray kb = Nd4j.createUninitialized(DataType.FLOAT, (long) g * nKV, t, dq);
            INDArray vb = Nd4j.createUninitialized(DataType.FLOAT, (long) g * nKV, t, dv);
            // qb[s*nKV+kv][r*T+i][:] = q[(b0+s)*T+i][(kv*rep+r)*dq : +dq]
            pack(qf, Ops.floats(qb), g, b0, t, nKV, rep, dq);
            pack(kf, Ops.floats(kb), g, b0, t, nKV, 1, dq);
            pack(vf, Ops.floats(vb), g, b0, t, nKV, 1, dv);
            INDArray scores = Nd4j.matmul(qb, kb, false, true, false); // [g*nKV, rep*T, T]
            scores.muli(scale);
            scores.reshape('c', (long) g * nKV, (long) rep * t * t).addiRowVector(mask);
            INDArray p = Ops.softmaxLastDim(scores);
            INDArray ctx = Nd4j.matmul(p, vb, false, false, false); // [g*nKV, rep*T, dv]
            unpack(Ops.floats(ctx), of, g, b0, t, nKV, rep, dv);
            qb.close();
            kb.close();
            vb.close();
            scores.close();
            p.close();
            ctx.close();
        }
        mask.close();
        return out;
    }

    /** Gathers head runs of {@code d} floats from sequence-major rows into [seq*nKV, rep*T, d] order. */
    private static void pack(FloatBuffer src, FloatBuffer dst, int g, int b0, int t, int nKV, int rep, int d) {
        int rowWidth = nKV * rep * d;
        float[] run = new float[d];
        int o = 0;
        for (int s = 0; s < g; s++) {
            for (int kv = 0; kv < nKV; kv++) {
                for (int r = 0; r < rep; r++) {
                    for (int i = 0; i < t; i++) {
                        src.get(((b0 + s) * t + i) * rowWidth + (kv * rep + r) * d, run);
                        dst.put(o, run);
                        o += d;
                    }
                }
            }
        }
    }

    /** Inverse of {@link #pack}: [seq*nKV, rep*T, d] back to sequence-major rows of nH*d. */
    private static void unpack(FloatBuffer src, FloatBuffer dst, int g, int b0, int t, int nKV, int rep, int d) {
        int rowWidth = nKV * rep * d;
        float[] run = new float[d];
        int o = 0;
        for (int s = 0; s < g; s++) {
            for (int kv = 0; kv < nKV; kv++) {
                for (int r = 0; r < rep; r++) {
                    for (int i = 0; i < t; i++) {
                        src.get(o, run);
                        dst.put(((b0 + s) * t + i) * rowWidth + (kv * rep + r) * d, run);
                        o += d;
                    }
                }
            }
        }
    }

    /**
     * Additive mask [1, rep*T*T]: query i sees keys j <= i, and with a window W only i - W < j (W keys
     * including itself). Hidden keys get float32's most negative value, as HF does.
     */
    static INDArray mask(int t, int rep, int window) {
        INDArray m = Nd4j.createUninitialized(DataType.FLOAT, 1, (long) rep * t * t);
        FloatBuffer fb = Ops.floats(m);
        for (int r = 0; r < rep; r++) {
            for (int i = 0; i < t; i++) {
                int base = (r * t + i) * t;
                for (int j = 0; j < t; j++) {
                    boolean visible = j <= i && (window <= 0 || j > i - window);
                    fb.put(base + j, visible ? 0f : -Float.MAX_VALUE);
                }
            }
        }
        return m;
    }
}
