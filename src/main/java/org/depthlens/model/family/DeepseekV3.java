package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * DeepSeek-V3 (and R1): DeepSeek-V2's shape with q through a LoRA bottleneck, rope pairs interleaved
 * unless {@code rope_interleave} is false, and routing that HF fixes whatever topk_method says: sigmoid
 * scores plus {@code e_score_correction_bias} for the choice, groups scored by the sum of their top two,
 * {@code norm_topk_prob} renormalisation, times {@code routed_scaling_factor}. Released checkpoints store
 * the multi-token-prediction module as block {@code num_hidden_layers}; the next-token model does not use it.
 */
final class DeepseekV3 implements Family {
    @Override
    public String modelType() {
        return "deepseek_v3";
    }

    private static final ConfigKeys KEYS = Deepseek.KEYS.read("rope_interleave", "norm_topk_prob", "num_local_experts")
            .ignored("multi-token-prediction modules, used for speculative decoding only: next-token logits do not depend on them",
                    "num_nextn_predict_layers", "num_mtp_layers")
            .only("topk_method", "noaux_tc routing (HF's DeepseekV3 always routes by sigmoid scores plus the correction bias,"
                    + " groups ranked by their top-2 sum)", "noaux_tc")
            .only("scoring_func", "sigmoid router scores (HF's DeepseekV3 always uses sigmoid)", "sigmoid");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 129280, "hidden_size", 7168, "intermediate_size", 18432, "num_hidden_layers", 61,
                "num_attention_heads", 128, "num_key_value_heads", 128, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 4096, "q_lora_rank", 1536, "kv_lora_rank", 512, "qk_nope_head_dim", 128,
                "qk_rope_head_dim", 64, "v_head_dim", 128, "n_routed_experts", 256, "n_shared_experts", 1,
                "num_experts_per_tok", 8, "moe_intermediate_size", 2048, "first_k_dense_replace", 3, "topk_method", "noaux_tc",
                "n_group", 8, "topk_group", 4, "routed_scaling_factor", 2.5, "norm_topk_prob", true);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm form) {
        int nGroup = c.positiveInt("n_group"), topkGroup = c.positiveInt("topk_group");
        double scaling = c.positiveDouble("routed_scaling_factor");
        boolean norm = c.bool("norm_topk_prob", false);
        int layers = c.positiveInt("num_hidden_layers");
        Architecture.Extra mtp = new Architecture.Extra("model\\.layers\\." + layers + "\\..*",
                "block " + layers + " is DeepSeek-V3's multi-token-prediction module, not part of next-token prediction");
        return Deepseek.assemble(modelType(), c, form, c.bool("rope_interleave", true), Deepseek.mlp(c, "num_local_experts", (experts, topK, inter, shared) ->
                new MlpSpec.Moe("mlp", experts, topK, inter, "gate_proj", "up_proj", "down_proj", MlpSpec.Scoring.SIGMOID,
                        MlpSpec.Selection.GROUP_TOP2_SUM, nGroup, topkGroup, norm, scaling, true, shared)), List.of(mtp));
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(Deepseek.LAYER_KEYS);
    }
}
