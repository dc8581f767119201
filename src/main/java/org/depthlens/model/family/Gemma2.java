package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * Gemma-2 (Gemma2ForCausalLM): the Gemma sandwich block ({@link Gemma}) with attention logit soft-capping
 * ({@code attn_logit_softcapping}) and final logit soft-capping ({@code final_logit_softcapping}); the even blocks
 * (0, 2, ...) attend within {@code sliding_window}, the odd ones fully, unless {@code layer_types} says otherwise.
 */
final class Gemma2 implements Family {
    @Override
    public String modelType() {
        return "gemma2";
    }

    private static final ConfigKeys KEYS = Gemma.keys("layer_types");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    /** HF's class reads an explicit layer_types (the even/odd rule only fills it when absent). */
    @Override
    public boolean honoursLayerTypes() {
        return true;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 256000, "hidden_size", 2304, "intermediate_size", 9216, "num_hidden_layers", 26,
                "num_attention_heads", 8, "num_key_value_heads", 4, "head_dim", 256, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                "max_position_embeddings", 8192, "query_pre_attn_scalar", 256, "sliding_window", 4096,
                "final_logit_softcapping", 30.0, "attn_logit_softcapping", 50.0, "tie_word_embeddings", true);
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(c, modelType(), NormType.SANDWICH);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        AttentionSpec.Gqa attention = Gemma.attention(c, false, Gemma.softcap(c, "attn_logit_softcapping"));
        MlpSpec.Dense mlp = Gemma.mlp(c, modelType());
        Common.Layout layout = Gemma.layout(Gemma.softcap(c, "final_logit_softcapping"), List.of(c.rope()), attention.headDim(), false,
                Architecture.Names.HF);
        // HF: layer_types[i] = sliding_attention if (i + 1) % 2 else full_attention
        return Common.assemble(modelType(), c, norm, attention, layout, new Common.Windows((i, w) -> i % 2 == 0 ? w : 0, true, true),
                i -> mlp, List.of());
    }
}
