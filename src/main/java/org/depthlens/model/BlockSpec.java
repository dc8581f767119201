package org.depthlens.model;

/**
 * One decoder block.
 *
 * @param slidingWindow keys visible per query including itself (0 = full causal attention)
 * @param norm          where the block's norms sit ({@link BlockNorm}: pre with its LNS factor, post, sandwich)
 */
public record BlockSpec(int index, int slidingWindow, MlpSpec mlp, BlockNorm norm) {

    /** The LayerNorm Scaling factor of the pre-norm outputs (1 unless the block is an LNS pre block). */
    public double normScale() {
        return norm.scale();
    }

    public String prefix() {
        return "model.layers." + index + ".";
    }
}
