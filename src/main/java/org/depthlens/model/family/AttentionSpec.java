package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

import static org.depthlens.model.family.Weight.part;

/** How a block's attention is built: grouped-query ({@link Gqa}) or latent (MLA, DeepSeek). */
public sealed interface AttentionSpec permits AttentionSpec.Gqa, AttentionSpec.Mla {

    int heads();

    /** The attention weights of one block, under its prefix {@code model.layers.i.} (q/k norms of the model's norm kind). */
    List<Weight> weights(String blockPrefix, int hidden, NormSpec norm);

    /** Where the q and k norms apply: none, per head over head_dim (Qwen3, Gemma-3), or over the whole projection (OLMo-2). */
    enum QkNorm { NONE, PER_HEAD, WHOLE }

    /**
     * How q/k/v are stored: three tensors {@code q_proj/k_proj/v_proj} + {@code o_proj} under {@code self_attn}
     * (most families); one {@code qkv_proj} with [q; k; v] rows (Phi-3); or GPT-NeoX's
     * {@code attention.query_key_value} with rows per head [heads, 3, head_dim] and {@code attention.dense} as o.
     */
    enum Fused {
        NONE("self_attn."), QKV("self_attn."), PER_HEAD_QKV("attention.");

        final String module;

        Fused(String module) {
            this.module = module;
        }
    }

    /**
     * Grouped-query attention: {@code heads} query heads share {@code kvHeads} key/value heads.
     *
     * @param qkvBias q/k/v projections have biases (Qwen2, or Llama's and Qwen3's attention_bias)
     * @param oBias   o_proj has a bias (Llama's and Qwen3's attention_bias)
     * @param qkNorm  RMSNorm of q and k before RoPE: per head (Qwen3, Gemma-3) or over the whole projection (OLMo-2)
     * @param fused   how the projections are stored
     * @param scale   softmax scale: head_dim^-0.5, Gemma's query_pre_attn_scalar^-0.5
     * @param softcap attention logit soft-capping {@code cap·tanh(s/cap)} of the scaled scores (Gemma-2), 0 for none
     * @param clip    q, k and v clamped to [-clip, clip] after the projection (OLMo's clip_qkv), 0 for none
     */
    record Gqa(int heads, int kvHeads, int headDim, boolean qkvBias, boolean oBias, QkNorm qkNorm, Fused fused, double scale,
               double softcap, double clip) implements AttentionSpec {
        /** The Llama-layout attention: separate projections, head_dim^-0.5, no capping; {@code qkNorm} per head. */
        public Gqa(int heads, int kvHeads, int headDim, boolean qkvBias, boolean oBias, boolean qkNorm) {
            this(heads, kvHeads, headDim, qkvBias, oBias, qkNorm ? QkNorm.PER_HEAD : QkNorm.NONE, Fused.NONE, Math.pow(headDim, -0.5), 0, 0);
        }

        public Gqa {
            if (fused == Fused.PER_HEAD_QKV && heads != kvHeads) throw new IllegalArgumentException("per-head fused q/k/v needs as many kv heads as heads");
        }

        /** Roles attn.qkv (q, k, v stacked), attn.qkv.bias, attn.o, attn.o.bias, attn.q_norm, attn.k_norm. */
        @Override
        public List<Weight> weights(String blockPrefix, int hidden, NormSpec norm) {
            String p = blockPrefix + fused.module;
            long q = (long) heads * headDim, kv = (long) kvHeads * headDim;
            List<Weight> w = new ArrayList<>();
            switch (fused) {
                case NONE -> {
                    w.add(Weight.stacked("attn.qkv", part(p + "q_proj.weight", q, hidden), part(p + "k_proj.weight", kv, hidden),
                            part(p + "v_proj.weight", kv, hidden)));
                    if (qkvBias) {
                        w.add(Weight.stacked("attn.qkv.bias", part(p + "q_proj.bias", q), part(p + "k_proj.bias", kv), part(p + "v_proj.bias", kv)));
                    }
                }
                case QKV -> {
                    w.add(Weight.of("attn.qkv", p + "qkv_proj.weight", q + 2 * kv, hidden));
                    if (qkvBias) w.add(Weight.of("attn.qkv.bias", p + "qkv_proj.bias", q + 2 * kv));
                }
                case PER_HEAD_QKV -> {
                    Weight.Transform t = Weight.Transform.perHeadQkv(heads, headDim);
                    w.add(Weight.of("attn.qkv", p + "query_key_value.weight", 3 * q, hidden).with(t));
                    if (qkvBias) w.add(Weight.of("attn.qkv.bias", p + "query_key_value.bias", 3 * q).with(t));
                }
            }
            String o = fused == Fused.PER_HEAD_QKV ? "dense" : "o_proj";
            w.add(Weight.of("attn.o", p + o + ".weight", hidden, q));
            if (oBias) w.add(Weight.of("attn.o.bias", p + o + ".bias", hidden));
            if (qkNorm != QkNorm.NONE) {
                w.addAll(norm.weights("attn.q_norm", p + "q_norm", qkNorm == QkNorm.PER_HEAD ? headDim : q));
                w.addAll(norm.weights("attn.k_norm", p + "k_norm", qkNorm == QkNorm.PER_HEAD ? headDim : kv));
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
        public List<Weight> weights(String blockPrefix, int hidden, NormSpec norm) {
            String p = blockPrefix + "self_attn.";
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
