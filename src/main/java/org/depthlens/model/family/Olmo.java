package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.RopeConfig;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * OLMo v1 (OlmoForCausalLM): Pre-LN with a LayerNorm that has no parameters at all (HF's OlmoLayerNorm, eps fixed
 * at 1e-5; the checkpoint holds no norm tensor, the final norm included); q/k/v clamped to ±{@code clip_qkv} when
 * set; biases on q/k/v/o when {@code attention_bias}; SwiGLU MLP.
 */
final class Olmo implements Family {
    /** OlmoLayerNorm's eps, not read from the config. */
    static final double EPS = 1e-5;

    @Override
    public String modelType() {
        return "olmo";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "attention_bias", "clip_qkv")
            .ignored("OLMo's LayerNorm has a fixed eps of 1e-5; HF's class has no rms_norm_eps", "rms_norm_eps");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 50304, "hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                "num_attention_heads", 32, "rope_theta", 1e4, "max_position_embeddings", 2048);
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(c, modelType(), NormType.PRE);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        boolean bias = c.bool("attention_bias", false);
        double clip = c.has("clip_qkv") ? c.positiveDouble("clip_qkv") : 0;
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"));
        AttentionSpec.Gqa attention = new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, AttentionSpec.QkNorm.NONE,
                AttentionSpec.Fused.NONE, Math.pow(h.headDim(), -0.5), 0, clip);
        int ropeDim = h.headDim();
        Common.Layout layout = new Common.Layout() {
            @Override
            public Architecture.Numerics numerics(ConfigReader c) {
                return new Architecture.Numerics(new NormSpec(NormSpec.Kind.LAYER_NO_PARAMS, EPS), 1.0, 0);
            }

            @Override
            public List<RopeSpec> ropes(ConfigReader c, int maxPositions) {
                RopeConfig r = c.rope();
                return List.of(new RopeSpec(r, ropeDim, false, maxPositions));
            }
        };
        return Common.assemble(modelType(), c, norm, attention, layout, Common.FULL, i -> mlp, List.of());
    }
}
