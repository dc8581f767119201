package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Qwen3-MoE: Qwen3's attention; mixture-of-experts blocks as Qwen2-MoE's but without a shared expert
 * and with {@code norm_topk_prob}; with {@code use_sliding_window} every block attends within the window.
 */
final class Qwen3Moe implements Family {
    @Override
    public String modelType() {
        return "qwen3_moe";
    }

    // head_dim is not a field of HF's Qwen3MoeConfig, but its attention reads it when the file has it
    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "attention_bias", "use_sliding_window",
                    "sliding_window", "decoder_sparse_step", "mlp_only_layers", "num_experts", "num_local_experts",
                    "num_experts_per_tok", "moe_intermediate_size", "norm_topk_prob")
            .ignored(Common.ROUTER_LOSS, "output_router_logits", "router_aux_loss_coef");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 151936, "hidden_size", 2048, "intermediate_size", 6144, "num_hidden_layers", 24,
                "num_attention_heads", 32, "num_key_value_heads", 4, "head_dim", 128, "rms_norm_eps", 1e-6,
                "rope_theta", 1e4, "max_position_embeddings", 32768, "moe_intermediate_size", 768, "num_experts", 128,
                "num_experts_per_tok", 8, "sliding_window", 4096);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean bias = c.bool("attention_bias", false);
        boolean sliding = c.bool("use_sliding_window", false);
        return Common.assemble(modelType(), c, norm, new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, true),
                h.headDim(), false, new Common.Windows((i, w) -> w, false, sliding),
                Common.qwenMoe(c, Common.aliasedCount(c, "num_experts", "num_local_experts"), false), List.of());
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(new LayerKey.Threshold("max_window_layers"), new LayerKey.BlockIndices("mlp_only_layers"),
                new LayerKey.SparseStep("decoder_sparse_step", "mlp_only_layers"));
    }
}
