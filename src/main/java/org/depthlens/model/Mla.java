package org.depthlens.model;

import org.depthlens.model.family.AttentionSpec;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

import java.nio.FloatBuffer;

/**
 * Multi-head latent attention (DeepSeek V2/V3, architectures.md §3.8): q through {@code q_proj}
 * or the LoRA pair {@code q_a_proj} + norm + {@code q_b_proj}; k/v from the latent
 * {@code kv_a_proj_with_mqa} (whose last {@code ropeDim} outputs are one rotary key head shared by
 * every query head) + norm + {@code kv_b_proj}. The keys and values it builds go through the
 * same {@link Attention#core} as GQA, with nKV = nH and dq = nope + rope != dv.
 */
final class Mla {
    /** q_a_layernorm and kv_a_layernorm are built with the class default eps, not rms_norm_eps. */
    static final double INNER_NORM_EPS = 1e-6;

    private Mla() {}

    /**
     * Self-attention on normed input {@code h} [rows, H] of the sequences {@code seq} (row r at position
     * r % the rope tables' length); returns the o_proj output [rows, H].
     */
    static INDArray forward(AttentionSpec.Mla m, BlockWeights w, INDArray h, Gemm.Segments seq, int window, Rope.Tables rope) {
        int nH = m.heads(), nope = m.nopeDim(), dr = m.ropeDim(), dq = m.qkDim(), dv = m.vDim(), kvr = m.kvLoraRank();
        int rows = (int) h.rows();

        // q [N, nH*dq], per head [nope | rope]
        INDArray q;
        if (m.qLoraRank() == null) {
            q = Ops.linear(h, w.get("attn.q"), null, seq);
        } else {
            INDArray qa = Ops.linear(h, w.get("attn.q_a"), w.get("attn.q_a.bias"), seq);
            q = Ops.linear(Ops.rmsNorm(qa, w.get("attn.q_a_norm"), INNER_NORM_EPS, 1.0, m.qLoraRank()), w.get("attn.q_b"), null, seq);
        }
        // c [N, kvr + dr] = [latent | shared rotary key]; only the latent is normed
        INDArray c = Ops.linear(h, w.get("attn.kv_a"), w.get("attn.kv_a.bias"), seq);
        INDArray latent = Ops.rmsNorm(c.get(NDArrayIndex.all(), NDArrayIndex.interval(0, kvr)), w.get("attn.kv_a_norm"),
                INNER_NORM_EPS, 1.0, kvr);
        INDArray kv = Ops.linear(latent, w.get("attn.kv_b"), null, seq); // [N, nH*(nope+dv)], per head [k_nope | v]

        FloatBuffer qf = Ops.floats(q);
        FloatBuffer cf = Ops.floats(c);
        rope.apply(qf, rows, nH, dq, nope, nH * dq);
        rope.apply(cf, rows, 1, kvr + dr, kvr, kvr + dr);

        // k_h = [k_nope_h | k_pe] and v_h, as the [N, nH*d] layouts Attention.core reads
        INDArray k = Nd4j.createUninitialized(DataType.FLOAT, rows, (long) nH * dq);
        INDArray v = Nd4j.createUninitialized(DataType.FLOAT, rows, (long) nH * dv);
        FloatBuffer kf = Ops.floats(k), vf = Ops.floats(v), kvf = Ops.floats(kv);
        float[] kvRow = new float[nH * (nope + dv)];
        float[] kRow = new float[nH * dq];
        float[] vRow = new float[nH * dv];
        float[] pe = new float[dr];
        for (int r = 0; r < rows; r++) {
            kvf.get(r * kvRow.length, kvRow);
            cf.get(r * (kvr + dr) + kvr, pe);
            for (int hd = 0; hd < nH; hd++) {
                System.arraycopy(kvRow, hd * (nope + dv), kRow, hd * dq, nope);
                System.arraycopy(pe, 0, kRow, hd * dq + nope, dr);
                System.arraycopy(kvRow, hd * (nope + dv) + nope, vRow, hd * dv, dv);
            }
            kf.put(r * kRow.length, kRow);
            vf.put(r * vRow.length, vRow);
        }
        INDArray ctx = Nd4j.create(DataType.FLOAT, rows, (long) nH * dv);
        Attention.core(q, 0, k, 0, v, 0, ctx, seq, nH, nH, dq, dv, m.scale(), window);
        return Ops.linear(ctx, w.get("attn.o"), w.get("attn.o.bias"), seq);
    }
}
