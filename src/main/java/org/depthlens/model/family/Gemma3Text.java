package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.RopeConfig;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * Gemma-3's language model (Gemma3ForCausalLM, {@code gemma3_text}): the Gemma sandwich block ({@link Gemma}) with
 * per-head q/k RMSNorm (gain {@code 1 + w}) and no soft-capping unless the config sets it; block i attends within
 * {@code sliding_window} iff {@code (i + 1) % sliding_window_pattern != 0} (or as {@code layer_types} says), and a
 * sliding block uses its own rotary table, base {@code rope_local_base_freq} without scaling, while the global ones
 * use {@code rope_theta} and {@code rope_scaling} (transformers v5 writes both under {@code rope_parameters}).
 */
final class Gemma3Text implements Family {
    @Override
    public String modelType() {
        return "gemma3_text";
    }

    static final ConfigKeys KEYS = Gemma.keys("sliding_window_pattern", "layer_types", "rope_local_base_freq");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    /** HF's class (4.53 on) reads an explicit layer_types; sliding_window_pattern only fills it when absent. */
    @Override
    public boolean honoursLayerTypes() {
        return true;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 262208, "hidden_size", 2304, "intermediate_size", 9216, "num_hidden_layers", 26,
                "num_attention_heads", 8, "num_key_value_heads", 4, "head_dim", 256, "rms_norm_eps", 1e-6, "rope_theta", 1e6,
                "rope_local_base_freq", 1e4, "max_position_embeddings", 131072, "query_pre_attn_scalar", 256, "sliding_window", 4096,
                "sliding_window_pattern", 6, "tie_word_embeddings", true);
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(c, modelType(), NormType.SANDWICH);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        return describe(modelType(), c, norm, Architecture.Names.HF, List.of());
    }

    /** The text model of {@code c} under {@code names} (Gemma3ForConditionalGeneration keeps it under model.language_model.). */
    static Architecture describe(String family, ConfigReader c, NormForm norm, Architecture.Names names, List<Architecture.Extra> extras) {
        AttentionSpec.Gqa attention = Gemma.attention(c, true, Gemma.softcap(c, "attn_logit_softcapping"));
        MlpSpec.Dense mlp = Gemma.mlp(c, family);
        RopeConfig global, local;
        if (c.ropePerLayerType()) {
            global = c.rope("full_attention");
            local = c.rope("sliding_attention");
            if (global == null || local == null) throw c.error(c.name("rope_parameters") + " needs both full_attention and sliding_attention");
        } else {
            global = c.rope();
            local = RopeConfig.defaults(c.positiveDouble("rope_local_base_freq"));
        }
        int pattern = c.positiveInt("sliding_window_pattern");
        Common.Layout layout = Gemma.layout(Gemma.softcap(c, "final_logit_softcapping"), List.of(global, local), attention.headDim(), true,
                names);
        return Common.assemble(family, c, norm, attention, layout, new Common.Windows((i, w) -> (i + 1) % pattern != 0 ? w : 0, true, true),
                i -> mlp, extras);
    }
}
