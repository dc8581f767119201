package org.depthlens.model;

/** A block's feed-forward part: a dense SwiGLU MLP or a mixture of experts. */
public sealed interface MlpSpec permits MlpSpec.Dense, MlpSpec.Moe {

    /** SwiGLU {@code down(silu(gate(x)) * up(x))} under {@code model.layers.{i}.mlp.}. */
    record Dense(int intermediate) implements MlpSpec {
    }

    /**
     * A routed mixture of SwiGLU experts, described by its differences between families.
     *
     * @param prefix        module name inside the block ({@code mlp} or Mixtral's {@code block_sparse_moe})
     * @param gateName      expert projection names: Mixtral {@code w1/w3/w2}, others {@code gate_proj/up_proj/down_proj}
     * @param scoring       router scores: softmax (fp32) or sigmoid (DeepSeek-V3)
     * @param selection     plain top-k, group-limited by max score (DeepSeek-V2) or by the sum of each group's
     *                      top-2 biased scores (DeepSeek-V3)
     * @param renormalize   divide the selected weights by their sum
     * @param scaling       routed_scaling_factor (1 where the family has none)
     * @param correctionBias DeepSeek-V3's {@code e_score_correction_bias}, used for selection only
     * @param shared        shared expert(s), or null
     */
    record Moe(String prefix, int experts, int topK, int intermediate, String gateName, String upName, String downName,
               Scoring scoring, Selection selection, int nGroup, int topkGroup, boolean renormalize, double scaling,
               boolean correctionBias, SharedExpert shared) implements MlpSpec {

        /** One line for {@code inspect}, e.g. "sigmoid+bias, top-2-sum of 8 groups keep 4, top-8, renormalised, x2.5". */
        public String describeRouting() {
            StringBuilder sb = new StringBuilder(scoring == Scoring.SOFTMAX ? "softmax" : "sigmoid");
            if (correctionBias) sb.append("+bias");
            switch (selection) {
                case TOPK -> { }
                case GROUP_MAX -> sb.append(", group max of ").append(nGroup).append(" groups keep ").append(topkGroup);
                case GROUP_TOP2_SUM -> sb.append(", group top-2 sum of ").append(nGroup).append(" groups keep ").append(topkGroup);
            }
            sb.append(", top-").append(topK);
            if (renormalize) sb.append(", renormalised");
            if (scaling != 1.0) sb.append(", x").append(scaling);
            return sb.toString();
        }
    }

    /**
     * @param name  {@code shared_expert} (Qwen2-MoE, gated per token by {@code shared_expert_gate}) or
     *              {@code shared_experts} (DeepSeek, ungated)
     */
    record SharedExpert(String name, int intermediate, boolean gated) {
    }

    enum Scoring { SOFTMAX, SIGMOID }

    enum Selection { TOPK, GROUP_MAX, GROUP_TOP2_SUM }
}
