package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Phi-3, Phi-3.5 and Phi-4-mini (Phi3ForCausalLM): Llama's Pre-LN block with q/k/v fused into one {@code qkv_proj}
 * ([q; k; v] rows) and gate/up into one {@code gate_up_proj} ([gate; up] rows); rotary on the first
 * {@code partial_rotary_factor} of each head (Phi-4-mini: 0.75); every block attends within {@code sliding_window}
 * when it is set. The long-context rope ({@code longrope}, formerly {@code su}) is refused.
 */
final class Phi3 implements Family {
    @Override
    public String modelType() {
        return "phi3";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "partial_rotary_factor", "sliding_window", "attention_bias")
            .ignored("dropout is off at inference (HF's eval mode)", "embd_pdrop", "resid_pdrop");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 32064, "hidden_size", 3072, "intermediate_size", 8192, "num_hidden_layers", 32,
                "num_attention_heads", 32, "rms_norm_eps", 1e-5, "rope_theta", 1e4, "max_position_embeddings", 4096,
                "partial_rotary_factor", 1.0);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        String ropeType = ropeType(c);
        if (ropeType.equals("longrope") || ropeType.equals("su")) {
            throw c.error("phi3 rope type '" + ropeType + "' (the long-context LongRoPE of the 128k checkpoints) is not supported; "
                    + "the 4k-context Phi-3 checkpoints use the default rope");
        }
        boolean bias = c.bool("attention_bias", false);
        double factor = c.partialRotaryFactor("partial_rotary_factor");
        int ropeDim = (int) (h.headDim() * factor); // HF: int(head_dim * partial_rotary_factor)
        AttentionSpec.Gqa attention = new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, AttentionSpec.QkNorm.NONE,
                AttentionSpec.Fused.QKV, Math.pow(h.headDim(), -0.5), 0, 0);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"), false, MlpSpec.Activation.SILU_GLU,
                MlpSpec.Layout.FUSED_GATE_UP);
        return Common.assemble(modelType(), c, norm, attention, ropeDim, false, Common.ALL_SLIDING, i -> mlp, List.of());
    }

    /** The rope type named in rope_scaling / rope_parameters, before the rope reader (which knows only the types it computes). */
    private static String ropeType(ConfigReader c) {
        for (String key : List.of("rope_parameters", "rope_scaling")) {
            com.fasterxml.jackson.databind.JsonNode p = c.raw(key);
            if (p != null && p.isObject()) {
                if (p.hasNonNull("rope_type")) return p.get("rope_type").asText();
                if (p.hasNonNull("type")) return p.get("type").asText();
            }
        }
        return "default";
    }
}
