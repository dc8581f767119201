package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Qwen3: Llama's block with per-head RMSNorm of q and k before rope ({@code q_norm}, {@code k_norm}),
 * biases on q/k/v/o when {@code attention_bias}, an explicit {@code head_dim}; windows as Qwen2.
 */
final class Qwen3 implements Family {
    @Override
    public String modelType() {
        return "qwen3";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "attention_bias", "use_sliding_window",
            "sliding_window", "max_window_layers", "layer_types");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 151936, "hidden_size", 4096, "intermediate_size", 22016, "num_hidden_layers", 32,
                "num_attention_heads", 32, "num_key_value_heads", 32, "head_dim", 128, "rms_norm_eps", 1e-6,
                "rope_theta", 1e4, "max_position_embeddings", 32768, "sliding_window", 4096, "max_window_layers", 28);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean bias = c.bool("attention_bias", false);
        boolean sliding = c.bool("use_sliding_window", false);
        int from = Common.maxWindowLayers(c);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"));
        return Common.assemble(modelType(), c, norm, new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, true),
                h.headDim(), false, new Common.Windows((i, w) -> i >= from ? w : 0, true, sliding), i -> mlp, List.of());
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(new LayerKey.Threshold("max_window_layers"));
    }
}
