package org.depthlens.model.family;

import org.depthlens.weights.ConfigReader;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;

/** What the family descriptions share: head counts, the model-wide keys, layer_types, MoE checks. */
final class Common {
    private Common() {}

    /** Defaults as a map from alternating keys and values. */
    static Map<String, Object> defaults(Object... kv) {
        Map<String, Object> out = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) out.put((String) kv[i], kv[i + 1]);
        return Map.copyOf(out);
    }

    /** Transformers before 4.31 saved Llama's rotary inverse frequencies as a buffer in every block. */
    static final Architecture.Extra ROTARY_BUFFER = new Architecture.Extra("model\\.layers\\.\\d+\\.self_attn\\.rotary_emb\\.inv_freq",
            "rotary inverse frequencies saved as a buffer by transformers < 4.31 (recomputed from config.json, as HF does)");

    /** With tie_word_embeddings HF makes the LM head the embedding after loading, whatever the file stored. */
    static final Architecture.Extra TIED_HEAD = new Architecture.Extra("lm_head\\.weight",
            "tie_word_embeddings: the LM head is the embedding, as in HF, which replaces a stored copy");

    /** Query heads, key/value heads and head_dim (explicit, else hidden_size / heads). */
    record Heads(int heads, int kvHeads, int headDim) {
    }

    static Heads heads(ConfigReader c) {
        int heads = c.positiveInt("num_attention_heads");
        int kvHeads = kvHeads(c, heads);
        int headDim;
        if (c.has("head_dim")) {
            headDim = c.positiveInt("head_dim");
        } else {
            int hidden = c.positiveInt("hidden_size");
            if (hidden % heads != 0) {
                throw c.error(c.name("num_attention_heads") + " " + heads + " does not divide " + c.name("hidden_size") + " " + hidden + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        return new Heads(heads, kvHeads, headDim);
    }

    static int kvHeads(ConfigReader c, int heads) {
        int kvHeads = c.has("num_key_value_heads") ? c.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0) throw c.error(c.name("num_key_value_heads") + " " + kvHeads + " does not divide " + c.name("num_attention_heads") + " " + heads);
        return kvHeads;
    }

    /** A family's window for block i when config.json has no {@code layer_types}; {@code w} is sliding_window, not null. */
    interface WindowRule {
        int window(int block, int w);
    }

    /**
     * How a family's blocks attend, as HF's class for it decides: {@code rule} places sliding_window per block,
     * {@code layerTypes} says whether the class reads an explicit layer_types list (which then wins), and
     * {@code on} whether the window is in use at all (Qwen's use_sliding_window: when false HF drops
     * sliding_window before anything reads it).
     */
    record Windows(WindowRule rule, boolean layerTypes, boolean on) {
    }

    /** Full causal attention in every block; sliding_window and layer_types are not read (HF's class has neither). */
    static final Windows FULL = new Windows((i, w) -> 0, false, false);

    /** Every block within sliding_window when it is set (Mistral, Mixtral); no layer_types. */
    static final Windows ALL_SLIDING = new Windows((i, w) -> w, false, true);

    /**
     * What a family states beyond attention, windows and feed-forward: its norm kind and the other numerics, the
     * rotary tables and which one each block uses, and where its tensors live.
     */
    interface Layout {
        /** Every norm's kind and eps, the embedding scale, the final logit capping. */
        Architecture.Numerics numerics(ConfigReader c);

        /** The rotary tables; {@code ropeOf} picks one per block. */
        List<RopeSpec> ropes(ConfigReader c, int maxPositions);

        /** Index into {@link #ropes} of block i, given its sliding window (0: full attention). */
        default int ropeOf(int block, int window) {
            return 0;
        }

        default Architecture.Names names() {
            return Architecture.Names.HF;
        }
    }

    /** The Llama layout: RMSNorm with rms_norm_eps, one rope table of {@code ropeDim}, HF names. */
    static Layout llamaLayout(int ropeDim, boolean interleaved) {
        return new Layout() {
            @Override
            public Architecture.Numerics numerics(ConfigReader c) {
                return Architecture.Numerics.rms(c.positiveDouble("rms_norm_eps"));
            }

            @Override
            public List<RopeSpec> ropes(ConfigReader c, int maxPositions) {
                return List.of(new RopeSpec(c.rope(), ropeDim, interleaved, maxPositions));
            }
        };
    }

    /**
     * The architecture from the keys every family reads (sizes, rope, tying, LNS, sliding windows) and the
     * family's attention, windows and feed-forward per block.
     */
    static Architecture assemble(String family, ConfigReader c, NormForm norm, AttentionSpec attention,
                                 int ropeDim, boolean interleaved, Windows windows, IntFunction<MlpSpec> mlp,
                                 List<Architecture.Extra> extras) {
        return assemble(family, c, norm, attention, llamaLayout(ropeDim, interleaved), windows, mlp, extras);
    }

    /** {@link #assemble} with the family's own {@link Layout}. */
    static Architecture assemble(String family, ConfigReader c, NormForm norm, AttentionSpec attention, Layout layout,
                                 Windows windows, IntFunction<MlpSpec> mlp, List<Architecture.Extra> extras) {
        int hidden = c.positiveInt("hidden_size");
        int layers = c.positiveInt("num_hidden_layers");
        int vocab = c.positiveInt("vocab_size");
        Architecture.Numerics numerics = layout.numerics(c);
        int maxPositions = c.positiveInt("max_position_embeddings");
        List<RopeSpec> ropes = layout.ropes(c, maxPositions);
        boolean tied = c.bool("tie_word_embeddings", false);
        if (norm.blocks().size() != layers) throw new IllegalArgumentException(norm.blocks().size() + " block forms for " + layers + " blocks");
        List<String> layerTypes = windows.layerTypes() ? c.stringList("layer_types", layers) : null;
        Integer w = windows == FULL ? null : c.optionalPositiveInt("sliding_window");
        if (!windows.on()) w = null;
        Architecture.Names names = layout.names();
        List<BlockSpec> blocks = new ArrayList<>();
        for (int i = 0; i < layers; i++) {
            int window = layerTypes != null ? layerTypeWindow(c, layerTypes, i, w) : w == null ? 0 : windows.rule().window(i, w);
            BlockSpec b = new BlockSpec(i, window, norm.blocks().get(i), mlp.apply(i), layout.ropeOf(i, window), names.block(i));
            if (b.mlp() instanceof MlpSpec.Moe m) checkMoe(c, m);
            blocks.add(b);
        }
        List<Architecture.Extra> all = new ArrayList<>(extras);
        if (tied) all.add(tiedHead(names));
        return new Architecture(family, c.file(), new Architecture.Dims(hidden, layers, numerics.norm().eps(), maxPositions),
                new Architecture.Tokens(vocab, tied), attention, ropes, blocks, norm, all, numerics, names);
    }

    /** With tie_word_embeddings HF makes the LM head the embedding after loading, whatever the file stored. */
    private static Architecture.Extra tiedHead(Architecture.Names names) {
        return names.head().equals(Architecture.Names.HF.head()) ? TIED_HEAD
                : new Architecture.Extra(java.util.regex.Pattern.quote(names.head()), TIED_HEAD.why());
    }

    /** An explicit layer_types list ("full_attention" / "sliding_attention") overrides every family rule. */
    private static int layerTypeWindow(ConfigReader c, List<String> types, int i, Integer w) {
        String t = types.get(i);
        if (t.equals("sliding_attention")) {
            if (w == null) throw c.error(c.name("layer_types") + " asks for sliding attention but " + c.name("sliding_window") + " is null (or use_sliding_window false)");
            return w;
        }
        if (!t.equals("full_attention")) {
            throw c.error(c.name("layer_types") + "[" + i + "] = '" + t + "' is not full_attention or sliding_attention");
        }
        return 0;
    }

    /** Refuses routing parameters HF would crash on or that would route to masked experts. */
    private static void checkMoe(ConfigReader c, MlpSpec.Moe m) {
        if (m.topK() < 1 || m.topK() > m.experts()) {
            throw c.error(c.name("num_experts_per_tok") + " " + m.topK() + " must be between 1 and the " + m.experts() + " experts");
        }
        if (m.selection() == MlpSpec.Selection.TOPK) return;
        if (m.nGroup() < 1 || m.experts() % m.nGroup() != 0) {
            throw c.error(c.name("n_group") + " " + m.nGroup() + " does not divide the " + m.experts() + " routed experts");
        }
        int groupSize = m.experts() / m.nGroup();
        if (m.topkGroup() < 1 || m.topkGroup() > m.nGroup()) {
            throw c.error(c.name("topk_group") + " " + m.topkGroup() + " must be between 1 and " + c.name("n_group") + " " + m.nGroup());
        }
        if (m.topK() > m.topkGroup() * groupSize) {
            throw c.error(c.name("num_experts_per_tok") + " " + m.topK() + " exceeds the " + m.topkGroup() * groupSize
                    + " experts of the topk_group kept groups");
        }
        if (m.selection() == MlpSpec.Selection.GROUP_TOP2_SUM && groupSize < 2) {
            throw c.error("groups of " + groupSize + " expert cannot be scored by their top-2 sum");
        }
    }

    /** Qwen2-MoE and Qwen3-MoE: a mixture of experts unless mlp_only_layers or decoder_sparse_step say dense. */
    static IntFunction<MlpSpec> qwenMoe(ConfigReader c, int experts, boolean sharedExpert) {
        int intermediate = c.positiveInt("intermediate_size");
        int topK = experts > 0 ? c.positiveInt("num_experts_per_tok") : 0;
        int expertIntermediate = experts > 0 ? c.positiveInt("moe_intermediate_size") : 0;
        int sharedIntermediate = sharedExpert ? c.nonNegativeInt("shared_expert_intermediate_size") : 0;
        boolean norm = c.bool("norm_topk_prob", false);
        int step = c.has("decoder_sparse_step") ? c.positiveInt("decoder_sparse_step") : 1;
        List<Integer> mlpOnly = c.intList("mlp_only_layers");
        MlpSpec.SharedExpert shared = sharedIntermediate > 0 ? new MlpSpec.SharedExpert("shared_expert", sharedIntermediate, true) : null;
        return i -> {
            boolean sparse = !mlpOnly.contains(i) && experts > 0 && (i + 1) % step == 0;
            if (!sparse) return new MlpSpec.Dense(intermediate);
            return new MlpSpec.Moe("mlp", experts, topK, expertIntermediate, "gate_proj", "up_proj", "down_proj",
                    MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, norm, 1.0, false, shared);
        };
    }

    /**
     * A count HF's attribute_map lets the file name two ways ({@code key}, or {@code alias}, which HF sets last
     * and so wins); both present with different values is refused rather than guessed.
     */
    static int aliasedCount(ConfigReader c, String key, String alias) {
        if (c.inFile(key) && c.inFile(alias) && c.nonNegativeInt(key) != c.nonNegativeInt(alias)) {
            throw c.error(c.name(key) + " = " + c.nonNegativeInt(key) + " and " + c.name(alias) + " = " + c.nonNegativeInt(alias)
                    + " name the same count (HF's attribute_map) but disagree");
        }
        return c.inFile(alias) ? c.nonNegativeInt(alias) : c.nonNegativeInt(key);
    }

    /** pretraining_tp: HF 4.x splits the projections into that many slices when > 1 (v5 dropped it). */
    static final String PRETRAINING_TP = "HF 4.x computes the projections in pretraining_tp slices when > 1: the same products"
            + " and sums in another order (v5 dropped it)";

    /** Mixture-of-experts keys that only shape the training loss. */
    static final String ROUTER_LOSS = "router logits and auxiliary balance loss for training; they do not change the output";

    /** {@link LayerKey#COMMON} and a family's own per-block keys. */
    static List<LayerKey> layerKeys(LayerKey... own) {
        List<LayerKey> all = new ArrayList<>(LayerKey.COMMON);
        all.addAll(List.of(own));
        return List.copyOf(all);
    }

    /** max_window_layers, 0 when absent. */
    static int maxWindowLayers(ConfigReader c) {
        Integer m = c.optionalInt("max_window_layers");
        return m == null ? 0 : m;
    }
}
