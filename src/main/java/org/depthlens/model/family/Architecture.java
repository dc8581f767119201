package org.depthlens.model.family;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A model described by its differences from a plain Pre-LN Llama, as its family description
 * ({@link Family}) builds it from config.json: sizes, attention kind, rope, and per block the
 * normalisation form, mask and feed-forward part; from these, the weights the model and each block
 * own ({@link #modelWeights}, {@link #blockWeights}) and the few checkpoint tensors the family knows
 * to be harmless extras. The executor reads only this.
 *
 * @param configFile the config.json it was read from (for error messages)
 * @param ropes      the rotary tables the blocks use ({@link BlockSpec#rope()} indexes them); most models have one
 * @param norm       the block normalisation (NORM_TYPE, each block's form) and how it was chosen
 * @param extras     tensors a checkpoint of this family may hold that the model does not use
 * @param numerics   what every norm computes, the embedding scale and the final logit soft-capping
 * @param names      where the model-level tensors and the blocks live in the checkpoint
 */
public record Architecture(String family, Path configFile, Dims dims, Tokens tokens, AttentionSpec attention, List<RopeSpec> ropes,
                           List<BlockSpec> blocks, NormForm norm, List<Extra> extras, Numerics numerics, Names names) {

    /**
     * @param norm         the kind of every norm of the model (blocks, final norm, q/k norms)
     * @param embedScale   the embedding rows are multiplied by this (Gemma: sqrt(hidden)), 1 for none
     * @param logitSoftcap final logits become {@code cap·tanh(z/cap)} (Gemma-2), 0 for none
     */
    public record Numerics(NormSpec norm, double embedScale, double logitSoftcap) {
        /** Llama's: RMSNorm, no embedding scale, no capping. */
        public static Numerics rms(double eps) {
            return new Numerics(NormSpec.rms(eps), 1.0, 0);
        }
    }

    /**
     * Checkpoint names outside the blocks and the blocks' common prefix.
     *
     * @param finalNorm the final norm's base name (its tensors are {@code finalNorm.weight}, {@code .bias})
     */
    public record Names(String embedding, String finalNorm, String head, String blocks) {
        /** The Llama layout: model.embed_tokens, model.norm, lm_head, model.layers.i. */
        public static final Names HF = new Names("model.embed_tokens.weight", "model.norm", "lm_head.weight", "model.layers.");

        /** This layout with every model.* name under {@code prefix} instead (Gemma-3's model.language_model.). */
        public Names under(String prefix) {
            return new Names(embedding.replaceFirst("^model\\.", prefix), finalNorm.replaceFirst("^model\\.", prefix), head,
                    blocks.replaceFirst("^model\\.", prefix));
        }

        public String block(int i) {
            return blocks + i + ".";
        }
    }

    /** @param eps rms_norm_eps of every norm but MLA's inner ones */
    public record Dims(int hidden, int layers, double eps, int maxPositions) {
    }

    /** @param tiedEmbeddings the LM head is the embedding matrix (tie_word_embeddings) */
    public record Tokens(int vocab, boolean tiedEmbeddings) {
    }

    /**
     * Checkpoint tensors (names matching {@code pattern}) the family may hold and does not use, and why that is harmless.
     *
     * @param onRequest the option that must be given for them to be left out (a multimodal checkpoint's vision tower:
     *                  leaving out part of what the checkpoint computes is the user's call), or null: always harmless
     */
    public record Extra(Pattern pattern, String why, String onRequest) {
        public Extra(String regex, String why) {
            this(Pattern.compile(regex), why, null);
        }

        public Extra(Pattern pattern, String why) {
            this(pattern, why, null);
        }

        public boolean matches(String name) {
            return pattern.matcher(name).matches();
        }
    }

    /** How the user wants LayerNorm Scaling treated. */
    public enum LnsMode {
        /** As the config says ({@code layernorm_scaling}). */
        AUTO,
        /** Force 1/sqrt(l+1) (checkpoints of the paper's own code carry no flag). */
        ON,
        /** Force Pre-LN. */
        OFF
    }

    public Architecture {
        blocks = List.copyOf(blocks);
        extras = List.copyOf(extras);
        ropes = List.copyOf(ropes);
    }

    /** The first (for most models the only) rotary table. */
    public RopeSpec rope() {
        return ropes.get(0);
    }

    /** The kind of every norm of the model. */
    public NormSpec normSpec() {
        return numerics.norm();
    }

    public int hidden() {
        return dims.hidden();
    }

    public int layers() {
        return dims.layers();
    }

    public double eps() {
        return dims.eps();
    }

    public int maxPositions() {
        return dims.maxPositions();
    }

    public int vocab() {
        return tokens.vocab();
    }

    public boolean tiedEmbeddings() {
        return tokens.tiedEmbeddings();
    }

    /** True when the blocks scale their norms (LayerNorm Scaling). */
    public boolean lns() {
        return norm.lns();
    }

    /** "pre 0-23", "post 0-1, pre 2-5", "post (alpha 2.83) 0-5": the form of each block, in runs. */
    public String describeBlockForms() {
        StringBuilder sb = new StringBuilder();
        for (int l = 0; l < blocks.size(); ) {
            BlockForm f = blocks.get(l).form();
            int e = l;
            while (e + 1 < blocks.size() && sameKind(blocks.get(e + 1).form(), f)) e++;
            String k = f.kind() + (f instanceof BlockForm.PostNorm p && p.alpha() != 1.0 ? " (alpha " + p.alpha() + ")" : "")
                    + (f instanceof BlockForm.PreNorm p && p.residualScalars() ? " (learned residual scalars)" : "");
            sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(l).append(e > l ? "-" + e : "");
            l = e + 1;
        }
        if (lns()) sb.append(", pre-norm outputs scaled by ").append(defaultLns() ? "1/sqrt(l+1)" : "the config's factors");
        return sb.toString();
    }

    /** Same form but for the LNS factor (which differs per block). */
    private static boolean sameKind(BlockForm a, BlockForm b) {
        if (a instanceof BlockForm.PreNorm x && b instanceof BlockForm.PreNorm y) return x.residualScalars() == y.residualScalars();
        return a.equals(b);
    }

    private boolean defaultLns() {
        for (BlockSpec b : blocks) if (Math.abs(b.normScale() - 1.0 / Math.sqrt(b.index() + 1)) > 1e-12) return false;
        return true;
    }

    /** The LM head matrix: the embedding when tied (HF ties them whatever the file holds), else the head. */
    public String headName() {
        return tiedEmbeddings() ? names.embedding() : names.head();
    }

    /** The final norm's weights (gain and bias as its kind has them; none for a parameter-free LayerNorm). */
    public List<Weight> finalNormWeights() {
        return normSpec().weights("norm.final", names.finalNorm(), hidden());
    }

    /** Weights outside the blocks: embedding, final norm and (untied) LM head. */
    public List<Weight> modelWeights() {
        List<Weight> w = new ArrayList<>();
        w.add(Weight.of("embedding", names.embedding(), vocab(), hidden()));
        w.addAll(finalNormWeights());
        if (!tiedEmbeddings()) w.add(Weight.of("head", names.head(), vocab(), hidden()));
        return w;
    }

    /** Every weight block {@code j} owns, routed experts included. */
    public List<Weight> blockWeights(int j) {
        return blocks.get(j).weights(attention, hidden(), normSpec());
    }

    /** Every weight of the model: {@link #modelWeights} then each block's. */
    public List<Weight> allWeights() {
        List<Weight> w = new ArrayList<>(modelWeights());
        for (int j = 0; j < layers(); j++) w.addAll(blockWeights(j));
        return w;
    }

    /** The extra this tensor is, or null. */
    public Extra extra(String name) {
        for (Extra e : extras) if (e.matches(name)) return e;
        return null;
    }

    /**
     * What {@code inspect} shows, as ordered key/value pairs: sizes, attention kind (and MLA ranks),
     * rope, and for mixtures of experts the expert count, top-k, routing rule and shared experts.
     */
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("family", family);
        d.put("layers", Integer.toString(layers()));
        d.put("hidden", Integer.toString(hidden()));
        d.put("vocab", Integer.toString(vocab()));
        d.put("rms_norm_eps", Double.toString(eps()));
        d.put("norm", normSpec().describe());
        d.put("tied_embeddings", Boolean.toString(tiedEmbeddings()));
        d.put("layernorm_scaling", Boolean.toString(lns()));
        d.put("norm_type", norm.describe());
        if (attention instanceof AttentionSpec.Gqa g) {
            d.put("attention", g.kvHeads() == g.heads() ? "mha" : "gqa");
            d.put("heads", Integer.toString(g.heads()));
            d.put("kv_heads", Integer.toString(g.kvHeads()));
            d.put("head_dim", Integer.toString(g.headDim()));
            d.put("qkv_bias", Boolean.toString(g.qkvBias()));
            d.put("o_bias", Boolean.toString(g.oBias()));
            d.put("qk_norm", switch (g.qkNorm()) {
                case NONE -> "false";
                case PER_HEAD -> "true";
                case WHOLE -> "whole projection";
            });
            if (g.fused() != AttentionSpec.Fused.NONE) d.put("fused_qkv", g.fused() == AttentionSpec.Fused.QKV ? "qkv_proj [q; k; v]" : "query_key_value per head");
            if (Math.abs(g.scale() - Math.pow(g.headDim(), -0.5)) > 1e-15) d.put("attention_scale", String.format(java.util.Locale.ROOT, "%.8g", g.scale()));
            if (g.softcap() > 0) d.put("attn_logit_softcapping", Double.toString(g.softcap()));
            if (g.clip() > 0) d.put("clip_qkv", Double.toString(g.clip()));
        } else {
            AttentionSpec.Mla m = (AttentionSpec.Mla) attention;
            d.put("attention", "mla");
            d.put("heads", Integer.toString(m.heads()));
            d.put("q_lora_rank", m.qLoraRank() == null ? "none" : Integer.toString(m.qLoraRank()));
            d.put("kv_lora_rank", Integer.toString(m.kvLoraRank()));
            d.put("qk_nope_head_dim", Integer.toString(m.nopeDim()));
            d.put("qk_rope_head_dim", Integer.toString(m.ropeDim()));
            d.put("v_head_dim", Integer.toString(m.vDim()));
            d.put("softmax_scale", String.format(java.util.Locale.ROOT, "%.8g", m.scale()));
        }
        RopeSpec rope = rope();
        d.put("rope", rope.type() + (rope.interleaved() ? " (interleaved)" : ""));
        d.put("rope_dim", Integer.toString(rope.dim()));
        if (ropes.size() > 1) {
            StringBuilder sb = new StringBuilder();
            for (BlockSpec b : blocks) sb.append(sb.length() == 0 ? "" : ",").append(b.rope());
            d.put("rope_tables", ropes.stream().map(r -> r.type() + " theta " + r.config().theta()).toList() + ", per block " + sb);
        }
        if (numerics.embedScale() != 1.0) d.put("embedding_scale", String.format(java.util.Locale.ROOT, "%.8g", numerics.embedScale()));
        if (numerics.logitSoftcap() > 0) d.put("final_logit_softcapping", Double.toString(numerics.logitSoftcap()));
        List<Integer> windows = blocks.stream().map(BlockSpec::slidingWindow).distinct().toList();
        d.put("sliding_window", windows.size() == 1 && windows.get(0) == 0 ? "none" : describeWindows());
        List<Integer> dense = new ArrayList<>(), moe = new ArrayList<>();
        MlpSpec.Moe first = null;
        for (BlockSpec b : blocks) {
            if (b.mlp() instanceof MlpSpec.Moe m) {
                moe.add(b.index());
                if (first == null) first = m;
            } else {
                dense.add(b.index());
            }
        }
        d.put("mlp", moe.isEmpty() ? "dense" : dense.isEmpty() ? "moe" : "moe in blocks " + ranges(moe) + ", dense in " + ranges(dense));
        if (!dense.isEmpty()) {
            MlpSpec.Dense denseMlp = (MlpSpec.Dense) blocks.get(dense.get(0)).mlp();
            d.put("intermediate", Integer.toString(denseMlp.intermediate()));
            d.put("mlp_bias", Boolean.toString(denseMlp.bias()));
            if (denseMlp.activation() != MlpSpec.Activation.SILU_GLU) d.put("activation", denseMlp.activation().label());
            if (denseMlp.layout() == MlpSpec.Layout.FUSED_GATE_UP) d.put("fused_gate_up", "gate_up_proj [gate; up]");
        }
        if (first != null) {
            d.put("experts", Integer.toString(first.experts()));
            d.put("experts_per_token", Integer.toString(first.topK()));
            d.put("expert_intermediate", Integer.toString(first.intermediate()));
            d.put("routing", first.describeRouting());
            d.put("shared_experts", first.shared() == null ? "none"
                    : first.shared().intermediate() + (first.shared().gated() ? " (sigmoid-gated)" : " (ungated)"));
        }
        return java.util.Collections.unmodifiableMap(d);
    }

    private String describeWindows() {
        StringBuilder sb = new StringBuilder();
        for (BlockSpec b : blocks) sb.append(sb.length() == 0 ? "" : ",").append(b.slidingWindow());
        return "per block " + sb;
    }

    /** "0-2,5" for [0, 1, 2, 5]. */
    static String ranges(List<Integer> xs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < xs.size(); ) {
            int j = i;
            while (j + 1 < xs.size() && xs.get(j + 1) == xs.get(j) + 1) j++;
            if (sb.length() > 0) sb.append(',');
            sb.append(xs.get(i));
            if (j > i) sb.append('-').append(xs.get(j));
            i = j + 1;
        }
        return sb.toString();
    }

    public int headDimForDisplay() {
        return attention instanceof AttentionSpec.Gqa g ? g.headDim() : ((AttentionSpec.Mla) attention).qkDim();
    }
}
