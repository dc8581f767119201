package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Mixtral: Mistral's attention, and in every block a mixture of {@code num_local_experts} SwiGLU
 * experts of {@code intermediate_size} under {@code block_sparse_moe} (projections named w1 gate, w3 up,
 * w2 down), softmax router, top-k renormalised.
 */
final class Mixtral implements Family {
    @Override
    public String modelType() {
        return "mixtral";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "sliding_window", "num_local_experts", "num_experts",
                    "num_experts_per_tok")
            .ignored(Common.ROUTER_LOSS, "output_router_logits", "router_aux_loss_coef")
            .ignored("noise added to the router logits in training mode only", "router_jitter_noise");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 14336, "num_hidden_layers", 32,
                "num_attention_heads", 32, "num_key_value_heads", 8, "rms_norm_eps", 1e-5, "rope_theta", 1e6,
                "max_position_embeddings", 131072, "num_local_experts", 8, "num_experts_per_tok", 2);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        MlpSpec.Moe moe = new MlpSpec.Moe("block_sparse_moe", positive(c, Common.aliasedCount(c, "num_local_experts", "num_experts")), c.positiveInt("num_experts_per_tok"),
                c.positiveInt("intermediate_size"), "w1", "w3", "w2", MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, true, 1.0,
                false, null);
        return Common.assemble(modelType(), c, norm, new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), false, false, false),
                h.headDim(), false, Common.ALL_SLIDING, i -> moe, List.of());
    }

    private static int positive(ConfigReader c, int experts) {
        if (experts <= 0) throw c.error("'num_local_experts' must be positive, got " + experts);
        return experts;
    }
}
