package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Qwen2: Llama's block with biases on q/k/v, always (HF's class has no key for them), never on o_proj; with {@code use_sliding_window} the
 * blocks from {@code max_window_layers} on attend within {@code sliding_window}.
 */
final class Qwen2 implements Family {
    @Override
    public String modelType() {
        return "qwen2";
    }

    // head_dim is not a field of HF's Qwen2Config, but its attention reads it when the file has it
    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "use_sliding_window", "sliding_window", "max_window_layers",
            "layer_types");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 151936, "hidden_size", 4096, "intermediate_size", 22016, "num_hidden_layers", 32,
                "num_attention_heads", 32, "num_key_value_heads", 32, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 32768, "sliding_window", 4096, "max_window_layers", 28);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean sliding = c.bool("use_sliding_window", false);
        int from = Common.maxWindowLayers(c);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"));
        return Common.assemble(modelType(), c, norm,
                new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), true, false, false),
                h.headDim(), false, new Common.Windows((i, w) -> i >= from ? w : 0, true, sliding), i -> mlp, List.of());
    }

    @Override
    public List<LayerKey> layerKeys() {
        return Common.layerKeys(new LayerKey.Threshold("max_window_layers"));
    }
}
