package org.depthlens.model;

/**
 * One decoder block.
 *
 * @param slidingWindow keys visible per query including itself (0 = full causal attention)
 * @param normScale     LayerNorm Scaling factor applied to both pre-norm outputs (1 for Pre-LN)
 */
public record BlockSpec(int index, int slidingWindow, MlpSpec mlp, double normScale) {

    public String prefix() {
        return "model.layers." + index + ".";
    }
}
