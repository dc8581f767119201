package org.depthlens.model;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * One Pre-LN decoder block, the same for every family:
 * {@code x += attn(s * norm_in(x)); x += mlp(s * norm_post(x))} with s the LNS factor (1 for Pre-LN).
 */
public final class BlockForward {
    private BlockForward() {}

    /** Returns the new stream state [B*T, H]; {@code x} is not modified. */
    public static INDArray forward(Architecture a, BlockWeights w, INDArray x, int batch, int seqLen, Rope.Tables rope,
                                   BlockTrace trace) {
        BlockSpec b = w.spec();
        int h = a.hidden();
        INDArray hn = Ops.rmsNorm(x, w.get("norm.in"), a.eps(), b.normScale(), h);
        INDArray attn = a.attention() instanceof AttentionSpec.Gqa g
                ? Attention.gqa(g, w, hn, batch, seqLen, b.slidingWindow(), rope, a.eps())
                : Mla.forward((AttentionSpec.Mla) a.attention(), w, hn, batch, seqLen, b.slidingWindow(), rope);
        INDArray x1 = x.add(attn);
        INDArray hm = Ops.rmsNorm(x1, w.get("norm.post"), a.eps(), b.normScale(), h);
        INDArray mlp = b.mlp() instanceof MlpSpec.Moe m
                ? Moe.forward(m, w, hm, trace == null ? null : trace.expertUsage)
                : dense(w, "mlp", hm);
        if (trace != null && trace.keepOutputs) {
            trace.attnOut = attn;
            trace.mlpOut = mlp;
        }
        return x1.addi(mlp);
    }

    /** SwiGLU MLP with the weights of roles {@code <role>.gate/up/down}. */
    static INDArray dense(BlockWeights w, String role, INDArray h) {
        INDArray g = Ops.linear(h, w.get(role + ".gate"), null);
        INDArray u = Ops.linear(h, w.get(role + ".up"), null);
        return Ops.linear(Ops.swiglu(g, u), w.get(role + ".down"), null);
    }
}
