package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * OLMo-2 (Olmo2ForCausalLM): no input norm; each sublayer's output is RMS-normalised before the residual add,
 * {@code h = x + n_pa(attn(x))}, {@code out = h + n_pf(mlp(h))} ({@link BlockForm.OutputNorm}, whose tensors are the
 * same as Post-LN's: only this description tells them apart); q and k RMS-normalised over the whole projection
 * (all heads at once) before rope; biases on q/k/v/o when {@code attention_bias}; SwiGLU MLP.
 */
final class Olmo2 implements Family {
    @Override
    public String modelType() {
        return "olmo2";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.read("head_dim", "attention_bias", "clip_qkv");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 50304, "hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                "num_attention_heads", 32, "rms_norm_eps", 1e-5, "rope_theta", 1e4, "max_position_embeddings", 2048);
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(c, modelType(), NormType.OUTPUT_NORM);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        Common.Heads h = Common.heads(c);
        if (c.inFile("clip_qkv")) throw c.error("olmo2 with clip_qkv is not supported (released OLMo-2 checkpoints have none)");
        boolean bias = c.bool("attention_bias", false);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"));
        AttentionSpec.Gqa attention = new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, AttentionSpec.QkNorm.WHOLE,
                AttentionSpec.Fused.NONE, Math.pow(h.headDim(), -0.5), 0, 0);
        return Common.assemble(modelType(), c, norm, attention, h.headDim(), false, Common.FULL, i -> mlp, List.of());
    }
}
