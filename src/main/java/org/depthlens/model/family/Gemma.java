package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.RopeConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * What Gemma-2 and Gemma-3 share: the sandwich block (input, post-attention, pre-feedforward and post-feedforward
 * norms; each sublayer's output normed before the residual add), RMSNorm with gain {@code 1 + w}, embeddings times
 * sqrt(hidden), a GELU-tanh-gated MLP, attention scaled by {@code query_pre_attn_scalar^-0.5}.
 */
final class Gemma {
    private Gemma() {}

    /** The config keys both Gemma generations read or restrict, plus {@code more} read keys of one generation. */
    static ConfigKeys keys(String... more) {
        return ConfigKeys.COMMON.read("head_dim", "attention_bias", "query_pre_attn_scalar", "sliding_window", "attn_logit_softcapping",
                        "final_logit_softcapping").read(more)
            .only("hidden_activation", "the GELU-tanh-gated MLP (gelu_pytorch_tanh)", "gelu_pytorch_tanh")
            .only("hidden_act", "the GELU-tanh-gated MLP (gelu_pytorch_tanh; HF's Gemma reads hidden_activation)", "gelu_pytorch_tanh")
            .only("use_bidirectional_attention", "causal attention (the bidirectional variant is for embedding models)",
                    v -> v.isNull() || v.isBoolean() && !v.asBoolean())
            .ignored("the kind of generation cache, not the attention it computes", "cache_implementation");
    }

    /** hidden_activation (HF's Gemma MLP reads it; hidden_act is its old name): only gelu_pytorch_tanh is computed. */
    static MlpSpec.Dense mlp(ConfigReader c, String family) {
        // hidden_activation / hidden_act are declared ONLY gelu_pytorch_tanh: any other value was refused already
        return new MlpSpec.Dense(c.positiveInt("intermediate_size"), false, MlpSpec.Activation.GELU_TANH_GLU, MlpSpec.Layout.SEPARATE);
    }

    static AttentionSpec.Gqa attention(ConfigReader c, boolean qkNorm, double softcap) {
        Common.Heads h = Common.heads(c);
        boolean bias = c.bool("attention_bias", false);
        return new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, qkNorm ? AttentionSpec.QkNorm.PER_HEAD
                : AttentionSpec.QkNorm.NONE, AttentionSpec.Fused.NONE, Math.pow(c.positiveDouble("query_pre_attn_scalar"), -0.5), softcap, 0);
    }

    /** A soft-capping value, 0 when null or absent. */
    static double softcap(ConfigReader c, String key) {
        return c.has(key) ? c.positiveDouble(key) : 0;
    }

    /**
     * The Gemma layout: RMSNorm 1 + w with rms_norm_eps, embeddings times sqrt(hidden), final capping {@code logitCap};
     * {@code ropes} the rotary tables ({@code local} >= 0: sliding blocks use table {@code local}).
     */
    static Common.Layout layout(double logitCap, List<RopeConfig> ropes, int headDim, boolean localTable, Architecture.Names names) {
        return new Common.Layout() {
            @Override
            public Architecture.Numerics numerics(ConfigReader c) {
                return new Architecture.Numerics(new NormSpec(NormSpec.Kind.RMS_UNIT_OFFSET, c.positiveDouble("rms_norm_eps")),
                        Math.sqrt(c.positiveInt("hidden_size")), logitCap);
            }

            @Override
            public List<RopeSpec> ropes(ConfigReader c, int maxPositions) {
                List<RopeSpec> out = new ArrayList<>();
                for (RopeConfig r : ropes) out.add(new RopeSpec(r, headDim, false, maxPositions));
                return out;
            }

            @Override
            public int ropeOf(int block, int window) {
                return localTable && window > 0 ? 1 : 0;
            }

            @Override
            public Architecture.Names names() {
                return names;
            }
        };
    }
}
