package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

/**
 * One decoder block: its normalisation form, attention mask and feed-forward part. The attention
 * kind is the model's ({@link Architecture#attention()}).
 *
 * @param slidingWindow keys visible per query including itself (0 = full causal attention)
 */
public record BlockSpec(int index, int slidingWindow, BlockForm form, MlpSpec mlp) {

    public String prefix() {
        return "model.layers." + index + ".";
    }

    /** The LayerNorm Scaling factor of a pre-norm block (1 for Pre-LN and for the other forms). */
    public double normScale() {
        return form instanceof BlockForm.PreNorm p ? p.scale() : 1.0;
    }

    /** Every weight this block owns, routed experts included (marked {@link Weight#onDemand()}). */
    public List<Weight> weights(AttentionSpec attention, int hidden) {
        List<Weight> w = new ArrayList<>(form.weights(prefix(), hidden));
        w.addAll(attention.weights(prefix() + "self_attn.", hidden));
        w.addAll(mlp.weights(prefix(), hidden));
        return w;
    }
}
