package org.depthlens.model.family;

import java.util.List;

/**
 * Where a block normalises its stream: the form decides which norm tensors the block owns and how
 * its two residual updates are built (the attention and feed-forward parts themselves do not depend
 * on it). Every HF family here is {@link PreNorm}; the training code of the Curse-of-Depth paper
 * also trains Post-LN, DeepNorm-style, Sandwich and Mix-LN blocks (fixtures/lns_code/README.md), each
 * of which is a further form with its own norm tensors.
 */
public sealed interface BlockForm permits BlockForm.PreNorm {

    /** The norm (and scale) tensors of a block with this form, under the block's prefix {@code model.layers.i.}. */
    List<Weight> weights(String blockPrefix, int hidden);

    /** One line for {@code inspect}. */
    String describe();

    /**
     * {@code x += attn(s * norm_in(x)); x += mlp(s * norm_post(x))}: Pre-LN with s = 1, LayerNorm
     * Scaling with s = 1/sqrt(l+1).
     */
    record PreNorm(double scale) implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden) {
            return List.of(Weight.gain("norm.in", p + "input_layernorm.weight", hidden),
                    Weight.gain("norm.post", p + "post_attention_layernorm.weight", hidden));
        }

        @Override
        public String describe() {
            return scale == 1.0 ? "pre-norm" : "pre-norm x" + scale;
        }
    }
}
