package org.depthlens.model.family;

import java.util.List;

/**
 * A model's block normalisation as chosen for a run: its {@code NORM_TYPE}, the form of every block and
 * how the choice was made ({@link NormChoice#resolve}).
 *
 * @param source where the form came from: "--norm-type", "config.json norm_type", "--lns on",
 *               "config.json layernorm_scaling" or "detected from the norm tensors"
 * @param note   what the files could not tell and was assumed (for stderr), or null
 */
public record NormForm(NormType type, int postNum, List<BlockForm> blocks, String source, String note) {
    public static final String GIVEN_FLAG = "--norm-type";
    public static final String DETECTED = "detected from the norm tensors";

    public NormForm {
        blocks = List.copyOf(blocks);
    }

    /** Plain Pre-LN for {@code layers} blocks (synthetic shapes without files). */
    public static NormForm preLn(int layers, String source) {
        return new NormForm(NormType.PRE, 1, NormType.PRE.blocks(layers, 1, null), source, null);
    }

    /** Whether the form was detected from the files rather than given. */
    public boolean detected() {
        return source.equals(DETECTED);
    }

    /** Whether the blocks scale their pre-norm outputs (LayerNorm Scaling). */
    public boolean lns() {
        return type == NormType.LNS;
    }

    /** "Mix-LN (post_pre, POST_NUM=2)". */
    public String describe() {
        return type.describe(postNum);
    }
}
