package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

import static org.depthlens.model.family.Weight.part;

/** How a block's attention is built: grouped-query ({@link Gqa}) or latent (MLA, DeepSeek). */
public sealed interface AttentionSpec permits AttentionSpec.Gqa, AttentionSpec.Mla {

    int heads();

    /** The attention weights of one block, under {@code p} = {@code model.layers.i.self_attn.}. */
    List<Weight> weights(String p, int hidden);

    /**
     * Grouped-query attention: {@code heads} query heads share {@code kvHeads} key/value heads.
     *
     * @param qkvBias q/k/v projections have biases (Qwen2, or Llama's and Qwen3's attention_bias)
     * @param oBias   o_proj has a bias (Llama's and Qwen3's attention_bias)
     * @param qkNorm  per-head RMSNorm of q and k before RoPE (Qwen3)
     */
    record Gqa(int heads, int kvHeads, int headDim, boolean qkvBias, boolean oBias, boolean qkNorm) implements AttentionSpec {
        /** Roles attn.qkv (q, k, v stacked), attn.qkv.bias, attn.o, attn.o.bias, attn.q_norm, attn.k_norm. */
        @Override
        public List<Weight> weights(String p, int hidden) {
            long q = (long) heads * headDim, kv = (long) kvHeads * headDim;
            List<Weight> w = new ArrayList<>();
            w.add(Weight.stacked("attn.qkv", part(p + "q_proj.weight", q, hidden), part(p + "k_proj.weight", kv, hidden),
                    part(p + "v_proj.weight", kv, hidden)));
            if (qkvBias) {
                w.add(Weight.stacked("attn.qkv.bias", part(p + "q_proj.bias", q), part(p + "k_proj.bias", kv), part(p + "v_proj.bias", kv)));
            }
            w.add(Weight.of("attn.o", p + "o_proj.weight", hidden, q));
            if (oBias) w.add(Weight.of("attn.o.bias", p + "o_proj.bias", hidden));
            if (qkNorm) {
                w.add(Weight.gain("attn.q_norm", p + "q_norm.weight", headDim));
                w.add(Weight.gain("attn.k_norm", p + "k_norm.weight", headDim));
            }
            return w;
        }
    }

    /**
     * Multi-head latent attention (DeepSeek V2/V3): q optionally through a LoRA bottleneck with its own
     * norm, k/v through the shared latent {@code kv_a_proj_with_mqa} + norm + {@code kv_b_proj};
     * the rotary key part is one head shared by all query heads.
     *
     * @param qLoraRank null when q is a plain {@code q_proj}
     * @param bias      q_a_proj, kv_a_proj_with_mqa and o_proj have biases (attention_bias)
     * @param scale     softmax scale, qk_head_dim^-0.5 times YaRN's mscale squared
     */
    record Mla(int heads, Integer qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim, boolean bias,
               double scale) implements AttentionSpec {
        public int qkDim() {
            return nopeDim + ropeDim;
        }

        /** Roles attn.q or attn.q_a(.bias) + attn.q_a_norm + attn.q_b; attn.kv_a(.bias), attn.kv_a_norm, attn.kv_b, attn.o(.bias). */
        @Override
        public List<Weight> weights(String p, int hidden) {
            long qOut = (long) heads * qkDim();
            List<Weight> w = new ArrayList<>();
            if (qLoraRank == null) {
                w.add(Weight.of("attn.q", p + "q_proj.weight", qOut, hidden));
            } else {
                w.add(Weight.of("attn.q_a", p + "q_a_proj.weight", qLoraRank, hidden));
                if (bias) w.add(Weight.of("attn.q_a.bias", p + "q_a_proj.bias", qLoraRank));
                w.add(Weight.gain("attn.q_a_norm", p + "q_a_layernorm.weight", qLoraRank));
                w.add(Weight.of("attn.q_b", p + "q_b_proj.weight", qOut, qLoraRank));
            }
            long kvA = (long) kvLoraRank + ropeDim;
            w.add(Weight.of("attn.kv_a", p + "kv_a_proj_with_mqa.weight", kvA, hidden));
            if (bias) w.add(Weight.of("attn.kv_a.bias", p + "kv_a_proj_with_mqa.bias", kvA));
            w.add(Weight.gain("attn.kv_a_norm", p + "kv_a_layernorm.weight", kvLoraRank));
            w.add(Weight.of("attn.kv_b", p + "kv_b_proj.weight", (long) heads * (nopeDim + vDim), kvLoraRank));
            w.add(Weight.of("attn.o", p + "o_proj.weight", hidden, (long) heads * vDim));
            if (bias) w.add(Weight.of("attn.o.bias", p + "o_proj.bias", hidden));
            return w;
        }
    }
}
