package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Qwen2-MoE: Qwen2's attention (q/k/v biases per {@code qkv_bias}); every {@code decoder_sparse_step}-th
 * block outside {@code mlp_only_layers} is a softmax top-k mixture of {@code num_experts} experts plus
 * a shared expert gated per token by a sigmoid ({@code shared_expert_gate}); with
 * {@code use_sliding_window} the even blocks below {@code max_window_layers} attend within the window.
 */
final class Qwen2Moe implements Family {
    @Override
    public String modelType() {
        return "qwen2_moe";
    }

    // head_dim is not a field of HF's Qwen2MoeConfig, but its attention reads it when the file has it
    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "use_sliding_window", "sliding_window", "max_window_layers",
                    "layer_types", "qkv_bias", "decoder_sparse_step", "mlp_only_layers", "num_experts", "num_experts_per_tok",
                    "moe_intermediate_size", "shared_expert_intermediate_size", "norm_topk_prob")
            .ignored(Common.ROUTER_LOSS, "output_router_logits", "router_aux_loss_coef");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 151936, "hidden_size", 2048, "intermediate_size", 5632, "num_hidden_layers", 24,
                "num_attention_heads", 16, "num_key_value_heads", 16, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 32768, "moe_intermediate_size", 1408, "shared_expert_intermediate_size", 5632,
                "num_experts", 60, "num_experts_per_tok", 4, "qkv_bias", true, "sliding_window", 4096, "max_window_layers", 28);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean sliding = c.bool("use_sliding_window", false);
        int below = Common.maxWindowLayers(c);
        return Common.assemble(modelType(), c, norm,
                new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), c.bool("qkv_bias", true), false, false),
                h.headDim(), false, new Common.Windows((i, w) -> i % 2 == 0 && i < below ? w : 0, true, sliding),
                Common.qwenMoe(c, c.nonNegativeInt("num_experts"), true), List.of());
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(new LayerKey.Threshold("max_window_layers"), new LayerKey.BlockIndices("mlp_only_layers"),
                new LayerKey.SparseStep("decoder_sparse_step", "mlp_only_layers"));
    }
}
