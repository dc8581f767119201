package org.depthlens.model;

import org.depthlens.BadInputException;
import org.depthlens.weights.ModelConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A model described by its differences from a plain Pre-LN Llama: attention kind, rope table and
 * layout, per-block mask and MLP, and the block normalisation form ({@link NormForm}: Pre-LN, LNS, post,
 * sandwich, Mix-LN...) of each block. The executor reads only this; adding a family means adding its
 * rules in {@link #of}.
 */
public record Architecture(String family, int hidden, int vocab, int layers, double eps, boolean tiedEmbeddings,
                           AttentionSpec attention, Rope rope, List<BlockSpec> blocks, Integer bosId, Integer eosId,
                           int maxPositions, NormForm norm) {

    /** How the user wants LayerNorm Scaling treated. */
    public enum LnsMode {
        /** As the config says ({@code layernorm_scaling}). */
        AUTO,
        /** Force 1/sqrt(l+1) (checkpoints of the paper's own code carry no flag). */
        ON,
        /** Force Pre-LN. */
        OFF
    }

    /** A model described by its config alone (no weights to detect the block form from: Pre-LN or LNS as asked). */
    public static Architecture of(ModelConfig c, LnsMode lnsMode) {
        return of(c, NormChoice.of(lnsMode).resolve(c, null, false));
    }

    public static Architecture of(ModelConfig c, NormForm norm) {
        String f = c.modelType();
        AttentionSpec attention = attention(c);
        int ropeDim = attention instanceof AttentionSpec.Mla m ? m.ropeDim() : c.headDim();
        Rope rope = new Rope(c.rope(), ropeDim, c.ropeInterleave(), c.maxPositionEmbeddings());
        List<BlockSpec> blocks = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            MlpSpec mlp = mlp(c, i);
            if (mlp instanceof MlpSpec.Moe m) checkMoe(c, m);
            blocks.add(new BlockSpec(i, window(c, i), mlp, norm.blocks().get(i)));
        }
        return new Architecture(f, c.hiddenSize(), c.vocabSize(), c.numLayers(), c.rmsNormEps(), c.tieWordEmbeddings(),
                attention, rope, List.copyOf(blocks), c.bosTokenId(), c.eosTokenId(), c.maxPositionEmbeddings(), norm);
    }

    private static AttentionSpec attention(ModelConfig c) {
        return switch (c.modelType()) {
            case "deepseek_v2", "deepseek_v3" -> {
                int qk = c.qkNopeHeadDim() + c.qkRopeHeadDim();
                double scale = Math.pow(qk, -0.5);
                var r = c.rope();
                // YaRN's softmax correction lives in the attention scale (mscale_all_dim), squared
                if (!r.type().equals("default") && r.mscaleAllDim() != null && r.mscaleAllDim() != 0 && r.factor() != null && r.factor() > 1) {
                    double m = Rope.yarnMscale(r.factor(), r.mscaleAllDim());
                    scale *= m * m;
                }
                yield new AttentionSpec.Mla(c.numHeads(), c.qLoraRank(), c.kvLoraRank(), c.qkNopeHeadDim(), c.qkRopeHeadDim(),
                        c.vHeadDim(), c.attentionBias(), scale);
            }
            case "qwen2", "qwen2_moe" -> new AttentionSpec.Gqa(c.numHeads(), c.numKvHeads(), c.headDim(), c.qkvBias(), false, false);
            case "qwen3", "qwen3_moe" -> new AttentionSpec.Gqa(c.numHeads(), c.numKvHeads(), c.headDim(), c.attentionBias(),
                    c.attentionBias(), true);
            default -> new AttentionSpec.Gqa(c.numHeads(), c.numKvHeads(), c.headDim(), c.attentionBias(), c.attentionBias(), false);
        };
    }

    /** Sliding-window rule per family (0 = full causal). */
    private static int window(ModelConfig c, int i) {
        Integer w = c.slidingWindow();
        if (c.layerTypes() != null) {
            String t = c.layerTypes().get(i);
            if (t.equals("sliding_attention")) {
                if (w == null) throw new BadInputException(c.file() + ": layer_types asks for sliding attention but sliding_window is null");
                return w;
            }
            if (!t.equals("full_attention")) {
                throw new BadInputException(c.file() + ": layer_types[" + i + "] = '" + t + "' is not full_attention or sliding_attention");
            }
            return 0;
        }
        if (w == null) return 0;
        return switch (c.modelType()) {
            case "mistral", "mixtral" -> w;
            case "qwen2", "qwen3" -> c.useSlidingWindow() && i >= (c.maxWindowLayers() == null ? 0 : c.maxWindowLayers()) ? w : 0;
            case "qwen2_moe" -> c.useSlidingWindow() && i % 2 == 0 && i < (c.maxWindowLayers() == null ? 0 : c.maxWindowLayers()) ? w : 0;
            case "qwen3_moe" -> c.useSlidingWindow() ? w : 0;
            default -> 0;
        };
    }

    private static MlpSpec mlp(ModelConfig c, int i) {
        return switch (c.modelType()) {
            case "mixtral" -> new MlpSpec.Moe("block_sparse_moe", c.numExperts(), c.numExpertsPerTok(), c.intermediateSize(),
                    "w1", "w3", "w2", MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1, true, 1.0, false, null);
            case "qwen2_moe", "qwen3_moe" -> {
                boolean sparse = !c.mlpOnlyLayers().contains(i) && c.numExperts() > 0 && (i + 1) % c.decoderSparseStep() == 0;
                if (!sparse) yield new MlpSpec.Dense(c.intermediateSize());
                MlpSpec.SharedExpert shared = c.modelType().equals("qwen2_moe") && c.sharedExpertIntermediateSize() > 0
                        ? new MlpSpec.SharedExpert("shared_expert", c.sharedExpertIntermediateSize(), true) : null;
                yield new MlpSpec.Moe("mlp", c.numExperts(), c.numExpertsPerTok(), c.moeIntermediateSize(),
                        "gate_proj", "up_proj", "down_proj", MlpSpec.Scoring.SOFTMAX, MlpSpec.Selection.TOPK, 1, 1,
                        c.normTopkProb(), 1.0, false, shared);
            }
            case "deepseek_v2", "deepseek_v3" -> {
                if (i < c.firstKDenseReplace()) yield new MlpSpec.Dense(c.intermediateSize());
                boolean v3 = c.modelType().equals("deepseek_v3");
                // HF's V3 ignores topk_method/scoring_func (always sigmoid + noaux_tc); V2 knows only these two
                MlpSpec.Selection sel = v3 ? MlpSpec.Selection.GROUP_TOP2_SUM : switch (String.valueOf(c.topkMethod())) {
                    case "greedy" -> MlpSpec.Selection.TOPK;
                    case "group_limited_greedy" -> MlpSpec.Selection.GROUP_MAX;
                    default -> throw new BadInputException(c.file() + ": deepseek_v2 topk_method '" + c.topkMethod()
                            + "' is not supported (greedy, group_limited_greedy)");
                };
                MlpSpec.SharedExpert shared = c.nSharedExperts() > 0
                        ? new MlpSpec.SharedExpert("shared_experts", c.moeIntermediateSize() * c.nSharedExperts(), false) : null;
                yield new MlpSpec.Moe("mlp", c.numExperts(), c.numExpertsPerTok(), c.moeIntermediateSize(),
                        "gate_proj", "up_proj", "down_proj", v3 ? MlpSpec.Scoring.SIGMOID : MlpSpec.Scoring.SOFTMAX, sel,
                        c.nGroup(), c.topkGroup(), v3 && c.normTopkProb(), c.routedScalingFactor(), v3, shared);
            }
            default -> new MlpSpec.Dense(c.intermediateSize());
        };
    }

    /** Refuses routing parameters HF would crash on or that would route to masked experts. */
    private static void checkMoe(ModelConfig c, MlpSpec.Moe m) {
        String where = c.file() + ": ";
        if (m.topK() < 1 || m.topK() > m.experts()) {
            throw new BadInputException(where + "num_experts_per_tok " + m.topK() + " must be between 1 and the " + m.experts() + " experts");
        }
        if (m.selection() == MlpSpec.Selection.TOPK) return;
        if (m.nGroup() < 1 || m.experts() % m.nGroup() != 0) {
            throw new BadInputException(where + "n_group " + m.nGroup() + " does not divide the " + m.experts() + " routed experts");
        }
        int groupSize = m.experts() / m.nGroup();
        if (m.topkGroup() < 1 || m.topkGroup() > m.nGroup()) {
            throw new BadInputException(where + "topk_group " + m.topkGroup() + " must be between 1 and n_group " + m.nGroup());
        }
        if (m.topK() > m.topkGroup() * groupSize) {
            throw new BadInputException(where + "num_experts_per_tok " + m.topK() + " exceeds the " + m.topkGroup() * groupSize
                    + " experts of the topk_group kept groups");
        }
        if (m.selection() == MlpSpec.Selection.GROUP_TOP2_SUM && groupSize < 2) {
            throw new BadInputException(where + "groups of " + groupSize + " expert cannot be scored by their top-2 sum");
        }
    }

    /**
     * What {@code inspect} shows, as ordered key/value pairs: sizes, attention kind (and MLA ranks),
     * rope, and for mixtures of experts the expert count, top-k, routing rule and shared experts.
     */
    public Map<String, String> describe() {
        Map<String, String> d = new LinkedHashMap<>();
        d.put("family", family);
        d.put("layers", Integer.toString(layers));
        d.put("hidden", Integer.toString(hidden));
        d.put("vocab", Integer.toString(vocab));
        d.put("rms_norm_eps", Double.toString(eps));
        d.put("tied_embeddings", Boolean.toString(tiedEmbeddings));
        d.put("layernorm_scaling", Boolean.toString(lns()));
        d.put("norm_type", norm.describe());
        if (attention instanceof AttentionSpec.Gqa g) {
            d.put("attention", g.kvHeads() == g.heads() ? "mha" : "gqa");
            d.put("heads", Integer.toString(g.heads()));
            d.put("kv_heads", Integer.toString(g.kvHeads()));
            d.put("head_dim", Integer.toString(g.headDim()));
            d.put("qkv_bias", Boolean.toString(g.qkvBias()));
            d.put("qk_norm", Boolean.toString(g.qkNorm()));
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
        d.put("rope", rope.type() + (rope.interleaved() ? " (interleaved)" : ""));
        d.put("rope_dim", Integer.toString(rope.dim()));
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
            d.put("intermediate", Integer.toString(((MlpSpec.Dense) blocks.get(dense.get(0)).mlp()).intermediate()));
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

    /** Whether the blocks apply LayerNorm Scaling (NORM_TYPE LNS). */
    public boolean lns() {
        return norm.lns();
    }

    /** "pre 0-23", "post 0-1, pre 2-5": the kind of each block, in runs. */
    public String describeBlockNorms() {
        StringBuilder sb = new StringBuilder();
        for (int l = 0; l < blocks.size(); ) {
            BlockNorm n = blocks.get(l).norm();
            int e = l;
            while (e + 1 < blocks.size() && sameKind(blocks.get(e + 1).norm(), n)) e++;
            String k = n.kind().name().toLowerCase(java.util.Locale.ROOT) + (n.alpha() != 1.0 ? " (alpha " + n.alpha() + ")" : "")
                    + (n.learnedResidual() ? " (learned residual scalars)" : "");
            sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(l).append(e > l ? "-" + e : "");
            l = e + 1;
        }
        if (lns()) sb.append(", pre-norm outputs scaled by ").append(norm.source().startsWith("config") && !isDefaultLns() ? "the config's factors" : "1/sqrt(l+1)");
        return sb.toString();
    }

    private static boolean sameKind(BlockNorm a, BlockNorm b) {
        return a.kind() == b.kind() && a.alpha() == b.alpha() && a.learnedResidual() == b.learnedResidual();
    }

    private boolean isDefaultLns() {
        for (BlockSpec b : blocks) if (Math.abs(b.normScale() - 1.0 / Math.sqrt(b.index() + 1)) > 1e-12) return false;
        return true;
    }

    public int headDimForDisplay() {
        return attention instanceof AttentionSpec.Gqa g ? g.headDim() : ((AttentionSpec.Mla) attention).qkDim();
    }
}
