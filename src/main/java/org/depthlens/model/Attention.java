package org.depthlens.model;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

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

    /**
     * softmax(q k^T * scale + mask) v per sequence. q [B*T, nH*dq], k [B*T, nKV*dq], v [B*T, nKV*dv], rows
     * sequence-major; query head h uses kv head h / (nH/nKV). The query heads of each kv group are stacked
     * along the row dimension so K and V are never copied per head. Returns [B*T, nH*dv].
     */
    public static INDArray core(INDArray q, INDArray k, INDArray v, int batch, int seqLen, int nH, int nKV, int dq, int dv,
                                double scale, int window) {
        int rep = nH / nKV;
        int t = seqLen;
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, (long) batch * t, (long) nH * dv);
        INDArray mask = mask(t, rep, window);
        for (int b = 0; b < batch; b++) {
            var rows = NDArrayIndex.interval((long) b * t, (long) (b + 1) * t);
            // [T, nKV, rep, dq] -> [nKV, rep, T, dq] -> [nKV, rep*T, dq]
            INDArray qb = q.get(rows, NDArrayIndex.all()).reshape('c', t, nKV, rep, dq).permute(1, 2, 0, 3).dup('c')
                    .reshape('c', nKV, (long) rep * t, dq);
            INDArray kb = k.get(rows, NDArrayIndex.all()).reshape('c', t, nKV, dq).permute(1, 0, 2).dup('c');
            INDArray vb = v.get(rows, NDArrayIndex.all()).reshape('c', t, nKV, dv).permute(1, 0, 2).dup('c');
            INDArray scores = Nd4j.matmul(qb, kb, false, true, false); // [nKV, rep*T, T]
            scores.muli(scale);
            scores.reshape('c', nKV, (long) rep * t * t).addiRowVector(mask);
            INDArray p = Ops.softmaxLastDim(scores);
            INDArray ctx = Nd4j.matmul(p, vb, false, false, false); // [nKV, rep*T, dv]
            // [nKV, rep, T, dv] -> [T, nKV, rep, dv] -> [T, nH*dv]
            INDArray ctxT = ctx.reshape('c', nKV, rep, t, dv).permute(2, 0, 1, 3).dup('c').reshape('c', t, (long) nH * dv);
            out.get(rows, NDArrayIndex.all()).assign(ctxT);
        }
        return out;
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
