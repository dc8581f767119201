package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;
import org.depthlens.weights.RopeConfig;
import org.depthlens.weights.TensorInfo;

import java.util.List;
import java.util.Map;

/**
 * GPT-NeoX / Pythia (GPTNeoXForCausalLM), under {@code gpt_neox.}: LayerNorm with bias ({@code layer_norm_eps});
 * with {@code use_parallel_residual} (every released Pythia) {@code x + attn(ln1(x)) + mlp(ln2(x))}, else Pre-LN;
 * one fused {@code attention.query_key_value} whose rows are laid out per head [heads, 3, head_dim] and
 * {@code attention.dense} as o, with biases per {@code attention_bias}; rotary on the first {@code rotary_pct} of
 * each head ({@code rotary_emb_base}); an MLP {@code dense_4h_to_h(gelu(dense_h_to_4h(x)))} with the exact GELU and
 * biases; an untied {@code embed_out} head. Checkpoints saved by older transformers carry the causal-mask and
 * rotary buffers {@code attention.bias}, {@code attention.masked_bias} and {@code attention.rotary_emb.inv_freq}.
 */
final class GptNeox implements Family {
    static final Architecture.Names NAMES = new Architecture.Names("gpt_neox.embed_in.weight", "gpt_neox.final_layer_norm",
            "embed_out.weight", "gpt_neox.layers.");

    static final Architecture.Extra BUFFERS = new Architecture.Extra(
            "gpt_neox\\.layers\\.\\d+\\.attention\\.(bias|masked_bias|rotary_emb\\.inv_freq)",
            "the causal mask, its fill value and the rotary inverse frequencies, saved as buffers by older transformers "
                    + "(recomputed from config.json, as HF does)");

    @Override
    public String modelType() {
        return "gpt_neox";
    }

    private static final ConfigKeys KEYS = ConfigKeys.COMMON.ignored("HF's GPT-NeoX has one key/value head per head (no grouped-query attention)", "num_key_value_heads")
            .read("attention_bias", "layer_norm_eps", "rotary_emb_base", "rotary_pct",
                    "partial_rotary_factor", "use_parallel_residual")
            .only("hidden_act", "the exact (erf) GELU, \"gelu\", of every released Pythia", "gelu")
            .ignored("GPT-NeoX's norms are LayerNorms with layer_norm_eps; HF's class has no rms_norm_eps", "rms_norm_eps")
            .ignored("dropout is off at inference (HF's eval mode)", "hidden_dropout", "classifier_dropout")
            .ignored("the decoder flag of encoder-decoder use; GPT-NeoX is a causal decoder either way", "is_decoder");

    @Override
    public ConfigKeys configKeys() {
        return KEYS;
    }

    @Override
    public Map<String, Object> defaults() {
        return Common.defaults("vocab_size", 50432, "hidden_size", 6144, "intermediate_size", 24576, "num_hidden_layers", 44,
                "num_attention_heads", 64, "hidden_act", "gelu", "rotary_pct", 0.25, "rotary_emb_base", 10000,
                "max_position_embeddings", 2048, "layer_norm_eps", 1e-5, "use_parallel_residual", true, "attention_bias", true);
    }

    @Override
    public NormForm normForm(ConfigReader c, NormChoice choice, Map<String, TensorInfo> tensors, boolean trainingCode) {
        return choice.fixed(c, modelType(), c.bool("use_parallel_residual", true) ? NormType.PARALLEL : NormType.PRE);
    }

    @Override
    public Architecture describe(ConfigReader c, NormForm norm) {
        // HF's GPT-NeoX has neither head_dim nor num_key_value_heads: head_size = hidden / heads, one kv head per head
        int heads = c.positiveInt("num_attention_heads"), hidden = c.positiveInt("hidden_size");
        if (hidden % heads != 0) throw c.error("num_attention_heads " + heads + " does not divide hidden_size " + hidden);
        Common.Heads h = new Common.Heads(heads, heads, hidden / heads);
        boolean bias = c.bool("attention_bias", true);
        double pct = c.inFile("partial_rotary_factor") ? c.partialRotaryFactor("partial_rotary_factor") : c.partialRotaryFactor("rotary_pct");
        int ropeDim = (int) (h.headDim() * pct); // HF: int(head_size * rotary_pct)
        double eps = c.positiveDouble("layer_norm_eps");
        AttentionSpec.Gqa attention = new AttentionSpec.Gqa(h.heads(), h.kvHeads(), h.headDim(), bias, bias, AttentionSpec.QkNorm.NONE,
                AttentionSpec.Fused.PER_HEAD_QKV, Math.pow(h.headDim(), -0.5), 0, 0);
        MlpSpec.Dense mlp = new MlpSpec.Dense(c.positiveInt("intermediate_size"), true, MlpSpec.Activation.GELU, MlpSpec.Layout.NEOX);
        Common.Layout layout = new Common.Layout() {
            @Override
            public Architecture.Numerics numerics(ConfigReader c) {
                return new Architecture.Numerics(new NormSpec(NormSpec.Kind.LAYER_BIAS, eps), 1.0, 0);
            }

            @Override
            public List<RopeSpec> ropes(ConfigReader c, int maxPositions) {
                return List.of(new RopeSpec(rope(c), ropeDim, false, maxPositions));
            }

            @Override
            public Architecture.Names names() {
                return NAMES;
            }
        };
        return Common.assemble(modelType(), c, norm, attention, layout, Common.FULL, i -> mlp, List.of(BUFFERS));
    }

    /** Pythia's configs name the base {@code rotary_emb_base}; files re-saved by transformers v5 use the rope keys. */
    private static RopeConfig rope(ConfigReader c) {
        if (c.inFile("rope_theta") || c.inFile("rope_parameters")) return c.rope();
        if (c.inFile("rope_scaling")) throw c.error("gpt_neox rope_scaling with rotary_emb_base (and no rope_theta) is not supported");
        return RopeConfig.defaults(c.positiveDouble("rotary_emb_base"));
    }
}
