package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a block normalises its stream: the form decides which norm (and scalar) tensors the block owns
 * and how its two residual updates are built (the attention and feed-forward parts themselves do not
 * depend on it). Every HF family here is {@link PreNorm}; the training code of the Curse-of-Depth paper
 * ({@link NormType}) also trains post-norm, DeepNorm-style, sandwich and mixed stacks (a = attention,
 * m = MLP, n_X = the RMSNorm with weight {@code X.weight}):
 * <pre>
 *   PreNorm:  x += r_a·a(s·n_in(x));  x += r_m·m(s·n_pa(x))      s: LNS factor; r: learned 0-dim scalars or 1
 *   PostNorm: x = n_pa(α·x + a(x));   x = n_pf(α·x + m(x))        α: 1, or 2√2 for deeppost
 *   Sandwich: x += n_pa(a(n_in(x)));  x += n_pf(m(n_pff(x)))
 * </pre>
 * Roles: {@code norm.in} = input_layernorm, {@code norm.post} = post_attention_layernorm, {@code norm.pre_ff} =
 * pre_feedforward_layernorm, {@code norm.post_ff} = post_feedforward_layernorm, {@code res.attn} / {@code res.mlp} =
 * raw_scaling_factor_attn / _mlp.
 */
public sealed interface BlockForm permits BlockForm.PreNorm, BlockForm.PostNorm, BlockForm.Sandwich {

    /** The norm (and scale) tensors of a block with this form, under the block's prefix {@code model.layers.i.}, in forward order. */
    List<Weight> weights(String blockPrefix, int hidden);

    /** "pre", "post" or "sandwich". */
    default String kind() {
        return getClass().getSimpleName().replace("Norm", "").toLowerCase(Locale.ROOT);
    }

    /** One line for {@code inspect}. */
    String describe();

    /** One form of each kind: together they name every norm tensor a block of the Curse-of-Depth code may hold. */
    List<BlockForm> ALL_KINDS = List.of(new PreNorm(1.0), new PreNorm(1.0, true), new PostNorm(1.0), new Sandwich());

    /**
     * Pre-LN with s = 1, LayerNorm Scaling with s = 1/sqrt(l+1); {@code residualScalars}: the updates are scaled by
     * the block's learned 0-dim tensors (scale_res_pre_norm).
     */
    record PreNorm(double scale, boolean residualScalars) implements BlockForm {
        public PreNorm(double scale) {
            this(scale, false);
        }

        @Override
        public List<Weight> weights(String p, int hidden) {
            List<Weight> w = new ArrayList<>(List.of(Weight.gain("norm.in", p + "input_layernorm.weight", hidden),
                    Weight.gain("norm.post", p + "post_attention_layernorm.weight", hidden)));
            if (residualScalars) {
                w.add(Weight.scalar("res.attn", p + "raw_scaling_factor_attn"));
                w.add(Weight.scalar("res.mlp", p + "raw_scaling_factor_mlp"));
            }
            return w;
        }

        @Override
        public String describe() {
            return (scale == 1.0 ? "pre-norm" : "pre-norm x" + scale) + (residualScalars ? ", learned residual scalars" : "");
        }
    }

    /** Post-LN (α = 1) and deeppost (α = 2√2): the norm follows each residual sum. */
    record PostNorm(double alpha) implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden) {
            return List.of(Weight.gain("norm.post", p + "post_attention_layernorm.weight", hidden),
                    Weight.gain("norm.post_ff", p + "post_feedforward_layernorm.weight", hidden));
        }

        @Override
        public String describe() {
            return alpha == 1.0 ? "post-norm" : "post-norm, residual x" + alpha;
        }
    }

    /** Sandwich-LN: each module's input and output are normalised. */
    record Sandwich() implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden) {
            return List.of(Weight.gain("norm.in", p + "input_layernorm.weight", hidden),
                    Weight.gain("norm.post", p + "post_attention_layernorm.weight", hidden),
                    Weight.gain("norm.pre_ff", p + "pre_feedforward_layernorm.weight", hidden),
                    Weight.gain("norm.post_ff", p + "post_feedforward_layernorm.weight", hidden));
        }

        @Override
        public String describe() {
            return "sandwich-norm";
        }
    }
}
