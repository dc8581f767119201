package org.depthlens.model;

import org.depthlens.BadInputException;
import org.depthlens.weights.ConfigParser;
import org.depthlens.weights.ModelConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * A model described by its differences from a plain Pre-LN Llama: attention kind, rope table and
 * layout, per-block mask and MLP, and the LayerNorm Scaling factor of each block. The executor
 * reads only this; adding a family means adding its rules in {@link #of}.
 */
public record Architecture(String family, int hidden, int vocab, int layers, double eps, boolean tiedEmbeddings,
                           AttentionSpec attention, Rope rope, List<BlockSpec> blocks, Integer bosId, Integer eosId,
                           int maxPositions, boolean lns) {

    /** How the user wants LayerNorm Scaling treated. */
    public enum LnsMode {
        /** As the config says ({@code layernorm_scaling}). */
        AUTO,
        /** Force 1/sqrt(l+1) (checkpoints of the paper's own code carry no flag). */
        ON,
        /** Force Pre-LN. */
        OFF
    }

    public static Architecture of(ModelConfig c, LnsMode lnsMode) {
        String f = c.modelType();
        double[] lns = switch (lnsMode) {
            case AUTO -> c.layernormScaling();
            case ON -> c.layernormScaling() != null ? c.layernormScaling() : ConfigParser.defaultLns(c.numLayers());
            case OFF -> null;
        };
        AttentionSpec attention = attention(c);
        int ropeDim = attention instanceof AttentionSpec.Mla m ? m.ropeDim() : c.headDim();
        Rope rope = new Rope(c.rope(), ropeDim, c.ropeInterleave(), c.maxPositionEmbeddings());
        List<BlockSpec> blocks = new ArrayList<>();
        for (int i = 0; i < c.numLayers(); i++) {
            blocks.add(new BlockSpec(i, window(c, i), mlp(c, i), lns == null ? 1.0 : lns[i]));
        }
        return new Architecture(f, c.hiddenSize(), c.vocabSize(), c.numLayers(), c.rmsNormEps(), c.tieWordEmbeddings(),
                attention, rope, List.copyOf(blocks), c.bosTokenId(), c.eosTokenId(), c.maxPositionEmbeddings(), lns != null);
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
                MlpSpec.Selection sel = v3 ? MlpSpec.Selection.GROUP_TOP2_SUM
                        : "group_limited_greedy".equals(c.topkMethod()) ? MlpSpec.Selection.GROUP_MAX : MlpSpec.Selection.TOPK;
                MlpSpec.SharedExpert shared = c.nSharedExperts() > 0
                        ? new MlpSpec.SharedExpert("shared_experts", c.moeIntermediateSize() * c.nSharedExperts(), false) : null;
                yield new MlpSpec.Moe("mlp", c.numExperts(), c.numExpertsPerTok(), c.moeIntermediateSize(),
                        "gate_proj", "up_proj", "down_proj", v3 ? MlpSpec.Scoring.SIGMOID : MlpSpec.Scoring.SOFTMAX, sel,
                        c.nGroup(), c.topkGroup(), v3 && c.normTopkProb(), c.routedScalingFactor(), v3, shared);
            }
            default -> new MlpSpec.Dense(c.intermediateSize());
        };
    }

    public int headDimForDisplay() {
        return attention instanceof AttentionSpec.Gqa g ? g.headDim() : ((AttentionSpec.Mla) attention).qkDim();
    }
}
