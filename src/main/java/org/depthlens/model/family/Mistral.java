package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Mistral: Llama's block without any projection bias (HF's MistralAttention and MistralMLP ignore
 * attention_bias and mlp_bias), every block attending within {@code sliding_window} when it is set.
 */
final class Mistral implements Family {
    @Override
    public String modelType() {
        return "mistral";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "sliding_window")
            .only("layer_types", "sliding_window in every block or none, as HF's MistralModel, which ignores layer_types (it points"
                    + " such checkpoints to Ministral's classes)", v -> v.isNull());

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 14336, "num_hidden_layers", 32,
                "num_attention_heads", 32, "num_key_value_heads", 8, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 131072, "sliding_window", 4096);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"));
        return Common.assemble(modelType(), c, norm, new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), false, false, false),
                h.headDim(), false, Common.ALL_SLIDING, i -> mlp, List.of());
    }
}
