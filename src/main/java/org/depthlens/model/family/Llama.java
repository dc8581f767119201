package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.List;
import java.util.Map;

/**
 * Llama (LlamaForCausalLM): grouped-query attention whose q/k/v/o projections all have biases when
 * {@code attention_bias}, a dense SwiGLU MLP whose gate/up/down have biases when {@code mlp_bias}, full
 * causal attention. Old checkpoints may carry the rotary buffer {@code rotary_emb.inv_freq}.
 */
final class Llama implements Family {
    @Override
    public String modelType() {
        return "llama";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "attention_bias", "mlp_bias")
            .ignored(Common.PRETRAINING_TP, "pretraining_tp")
            .ignored("the context length under the name 4.28-era conversions used; HF's Llama does not read it", "max_sequence_length");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                "num_attention_heads", 32, "rms_norm_eps", 1e-6, "rope_theta", 1e4, "max_position_embeddings", 2048);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean bias = c.bool("attention_bias", false);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"), c.bool("mlp_bias", false));
        return Common.assemble(modelType(), c, norm, new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, false),
                h.headDim(), false, Common.FULL, i -> mlp, List.of(Common.ROTARY_BUFFER));
    }
}
