package org.depthlens.model;

/** How a block's attention is built: grouped-query ({@link Gqa}) or latent (MLA, DeepSeek). */
public sealed interface AttentionSpec permits AttentionSpec.Gqa, AttentionSpec.Mla {

    int heads();

    /**
     * Grouped-query attention: {@code heads} query heads share {@code kvHeads} key/value heads.
     *
     * @param qkvBias q/k/v projections have biases (Qwen2, or Llama's attention_bias)
     * @param oBias   o_proj has a bias (Llama's attention_bias only)
     * @param qkNorm  per-head RMSNorm of q and k before RoPE (Qwen3)
     */
    record Gqa(int heads, int kvHeads, int headDim, boolean qkvBias, boolean oBias, boolean qkNorm) implements AttentionSpec {
    }

    /**
     * Multi-head latent attention (DeepSeek V2/V3): q optionally through a LoRA bottleneck with its own
     * norm, k/v through the shared latent {@code kv_a_proj_with_mqa} + norm + {@code kv_b_proj};
     * the rotary key part is one head shared by all query heads.
     *
     * @param qLoraRank null when q is a plain {@code q_proj}
     * @param scale     softmax scale, qk_head_dim^-0.5 times YaRN's mscale squared
     */
    record Mla(int heads, Integer qLoraRank, int kvLoraRank, int nopeDim, int ropeDim, int vDim, boolean bias,
               double scale) implements AttentionSpec {
        public int qkDim() {
            return nopeDim + ropeDim;
        }
    }
}
