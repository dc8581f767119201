package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

/**
 * One decoder block: its normalisation form, attention mask, rotary table and feed-forward part. The attention
 * kind and the norm kind are the model's ({@link Architecture#attention()}, {@link Architecture#normSpec()}).
 * Each block keeps its own mask and table whatever other blocks a run removes (removing a block never
 * re-indexes a per-layer list such as {@code layer_types}).
 *
 * @param slidingWindow keys visible per query including itself (0 = full causal attention)
 * @param rope          index of its rotary table in {@link Architecture#ropes()} (Gemma-3: 0 global, 1 local)
 * @param prefix        its tensors' name prefix, e.g. {@code model.layers.3.}
 */
public record BlockSpec(int index, int slidingWindow, BlockForm form, MlpSpec mlp, int rope, String prefix) {

    /** A Llama-layout block ({@code model.layers.i.}) on the model's first rotary table. */
    public BlockSpec(int index, int slidingWindow, BlockForm form, MlpSpec mlp) {
        this(index, slidingWindow, form, mlp, 0, "model.layers." + index + ".");
    }

    /** The LayerNorm Scaling factor of a pre-norm block (1 for Pre-LN and for the other forms). */
    public double normScale() {
        return form instanceof BlockForm.PreNorm p ? p.scale() : 1.0;
    }

    /** Every weight this block owns, routed experts included (marked {@link Weight#onDemand()}). */
    public List<Weight> weights(AttentionSpec attention, int hidden, NormSpec norm) {
        List<Weight> w = new ArrayList<>(form.weights(prefix, hidden, norm));
        w.addAll(attention.weights(prefix, hidden, norm));
        w.addAll(mlp.weights(prefix, hidden));
        return w;
    }
}
