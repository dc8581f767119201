package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * DeepSeek-V2 (and V2-Lite): latent attention with interleaved rope pairs; mixture-of-experts blocks
 * from {@code first_k_dense_replace} on, routed by softmax and {@code topk_method} greedy (plain top-k)
 * or group_limited_greedy (groups scored by their best expert), times {@code routed_scaling_factor},
 * plus ungated shared experts.
 */
final class DeepseekV2 implements Family {
    @Override
    public String modelType() {
        return "deepseek_v2";
    }

    private static final ConfigKeys KEYS = Deepseek.KEYS.read("topk_method", "num_experts")
            .only("mlp_bias", "no biases in the dense and shared-expert MLPs", false)
            .only("norm_topk_prob", "routing weights that are not renormalised (HF's DeepseekV2 never renormalises; DeepSeek's own"
                    + " code does when norm_topk_prob is true, so the two disagree)", false)
            .only("scoring_func", "softmax router scores (HF's DeepseekV2 always uses softmax)", "softmax");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        // HF's DeepseekV2Config defaults (not V2-Lite's values); num_experts_per_tok has none (a file must state it),
        // n_group / topk_group none either (1 is what greedy routing means)
        return Common.defaults("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                "num_attention_heads", 32, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 2048, "q_lora_rank", 1536, "kv_lora_rank", 512, "qk_nope_head_dim", 128,
                "qk_rope_head_dim", 64, "v_head_dim", 128, "n_routed_experts", 64, "n_shared_experts", 2,
                "moe_intermediate_size", 1407, "first_k_dense_replace", 0, "topk_method", "greedy", "n_group", 1,
                "topk_group", 1, "routed_scaling_factor", 1.0);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        String method = c.string("topk_method");
        int nGroup = c.positiveInt("n_group"), topkGroup = c.positiveInt("topk_group");
        double scaling = c.positiveDouble("routed_scaling_factor");
        MlpSpec.Selection selection = switch (String.valueOf(method)) {
            case "greedy" -> MlpSpec.Selection.TOPK;
            case "group_limited_greedy" -> MlpSpec.Selection.GROUP_MAX;
            default -> throw c.error("deepseek_v2 topk_method '" + method + "' is not supported (greedy, group_limited_greedy)");
        };
        return Deepseek.assemble(modelType(), c, norm, true, Deepseek.mlp(c, "num_experts", (experts, topK, inter, shared) ->
                new MlpSpec.Moe("mlp", experts, topK, inter, "gate_proj", "up_proj", "down_proj", MlpSpec.Scoring.SOFTMAX,
                        selection, nGroup, topkGroup, false, scaling, false, shared)), List.of());
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(Deepseek.LAYER_KEYS);
    }
}
