package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

import static org.depthlens.model.family.Weight.part;

/** A block's feed-forward part: a dense SwiGLU MLP or a mixture of experts. */
public sealed interface MlpSpec permits MlpSpec.Dense, MlpSpec.Moe {

    /** The feed-forward weights of one block, under {@code blockPrefix} = {@code model.layers.i.}. */
    List<Weight> weights(String blockPrefix, int hidden);

    /** What a dense MLP computes. */
    enum Activation {
        /** {@code down(silu(gate(x)) * up(x))} (Llama and most families). */
        SILU_GLU("SiLU-gated (SwiGLU)"),
        /** {@code down(gelu_tanh(gate(x)) * up(x))} (Gemma's gelu_pytorch_tanh). */
        GELU_TANH_GLU("GELU-tanh-gated (GeGLU)"),
        /** {@code down(gelu(up(x)))} with the exact (erf) GELU, not gated (GPT-NeoX). */
        GELU("GELU (exact), not gated");

        private final String label;

        Activation(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }

        public boolean gated() {
            return this != GELU;
        }
    }

    /**
     * How a dense MLP's tensors are stored under {@code model.layers.i.mlp.}: gate/up/down projections (gated), or
     * one {@code gate_up_proj} with [gate; up] rows (Phi-3), or GPT-NeoX's {@code dense_h_to_4h}/{@code dense_4h_to_h}.
     */
    enum Layout {
        SEPARATE("gate_proj", "up_proj", "down_proj"), FUSED_GATE_UP(null, "gate_up_proj", "down_proj"),
        NEOX(null, "dense_h_to_4h", "dense_4h_to_h");

        final String gate, up, down;

        Layout(String gate, String up, String down) {
            this.gate = gate;
            this.up = up;
            this.down = down;
        }
    }

    /**
     * A dense MLP under {@code model.layers.{i}.mlp.}.
     *
     * @param bias every projection has a bias (Llama's mlp_bias, GPT-NeoX)
     */
    record Dense(int intermediate, boolean bias, Activation activation, Layout layout) implements MlpSpec {
        public Dense(int intermediate) {
            this(intermediate, false);
        }

        public Dense(int intermediate, boolean bias) {
            this(intermediate, bias, Activation.SILU_GLU, Layout.SEPARATE);
        }

        public Dense {
            if (activation.gated() == (layout == Layout.NEOX)) throw new IllegalArgumentException(activation + " with " + layout);
        }

        /** Roles mlp.gu (gate and up stacked) or mlp.up (not gated), mlp.down, and their biases. */
        @Override
        public List<Weight> weights(String blockPrefix, int hidden) {
            String p = blockPrefix + "mlp.";
            return switch (layout) {
                case SEPARATE -> swiGlu("mlp", p, layout.gate, layout.up, layout.down, intermediate, hidden, bias);
                case FUSED_GATE_UP, NEOX -> {
                    String up = layout == Layout.NEOX ? "mlp.up" : "mlp.gu";
                    long rows = layout == Layout.NEOX ? intermediate : 2L * intermediate;
                    List<Weight> w = new ArrayList<>();
                    w.add(Weight.of(up, p + layout.up + ".weight", rows, hidden));
                    if (bias) w.add(Weight.of(up + ".bias", p + layout.up + ".bias", rows));
                    w.add(Weight.of("mlp.down", p + layout.down + ".weight", hidden, intermediate));
                    if (bias) w.add(Weight.of("mlp.down.bias", p + layout.down + ".bias", hidden));
                    yield w;
                }
            };
        }
    }

    /**
     * Roles {@code <role>.gu} (gate and up stacked: one gemm computes both), {@code <role>.down} and with
     * biases {@code <role>.gu.bias}, {@code <role>.down.bias}.
     */
    static List<Weight> swiGlu(String role, String p, String gate, String up, String down, long inter, long hidden, boolean bias) {
        List<Weight> w = new ArrayList<>();
        w.add(Weight.stacked(role + ".gu", part(p + gate + ".weight", inter, hidden), part(p + up + ".weight", inter, hidden)));
        if (bias) w.add(Weight.stacked(role + ".gu.bias", part(p + gate + ".bias", inter), part(p + up + ".bias", inter)));
        w.add(Weight.of(role + ".down", p + down + ".weight", hidden, inter));
        if (bias) w.add(Weight.of(role + ".down.bias", p + down + ".bias", hidden));
        return w;
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

        /**
         * Roles moe.router, moe.bias, shared.gu/down, shared.gate_weight, and for each routed expert e
         * expert.gu/expert.down (on demand).
         */
        @Override
        public List<Weight> weights(String blockPrefix, int hidden) {
            String p = blockPrefix + prefix + ".";
            List<Weight> w = new ArrayList<>();
            w.add(Weight.of("moe.router", p + "gate.weight", experts, hidden));
            // F32 in released checkpoints, BF16 in the fixture: any float dtype is read as float32
            if (correctionBias) w.add(Weight.of("moe.bias", p + "gate.e_score_correction_bias", experts));
            if (shared != null) {
                w.addAll(swiGlu("shared", p + shared.name() + ".", "gate_proj", "up_proj", "down_proj", shared.intermediate(), hidden, false));
                if (shared.gated()) w.add(Weight.of("shared.gate_weight", p + shared.name() + "_gate.weight", 1, hidden));
            }
            for (int e = 0; e < experts; e++) {
                for (Weight x : swiGlu("expert", p + "experts." + e + ".", gateName, upName, downName, intermediate, hidden, false)) {
                    w.add(x.ofExpert(e));
                }
            }
            return w;
        }

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
