package org.depthlens.model.family;

import org.depthlens.weights.RopeConfig;

/**
 * The rotary embedding a model uses: its config (type, theta, scaling), the rotary dimension
 * (head_dim, or qk_rope_head_dim for DeepSeek), whether pairs are interleaved (GPT-J style,
 * DeepSeek) or halves (rotate-half), and max_position_embeddings (for the dynamic and YaRN fallbacks).
 */
public record RopeSpec(RopeConfig config, int dim, boolean interleaved, int maxPositions) {

    public String type() {
        return config.type();
    }

    /** YaRN's m(s, k) = 0.1 k ln(s) + 1 for s > 1. */
    public static double yarnMscale(double scale, double k) {
        return scale <= 1 ? 1.0 : 0.1 * k * Math.log(scale) + 1.0;
    }
}
