package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;

/**
 * The block normalisation schemes of the Curse-of-Depth training code, under the names of its
 * {@code NORM_TYPE} environment variable (lmsdss/LayerNorm-Scaling, {@code LlamaDecoderLayer}). The code
 * records the choice nowhere in the checkpoint; {@link NormChoice} finds it. The last two are the fixed forms of
 * released families that code does not train (OLMo-2, GPT-NeoX): they name a model's form in reports, but
 * {@code --norm-type} does not accept them ({@link #parseCode}).
 */
public enum NormType {
    PRE("pre", "Pre-LN"),
    SCALE_PRE("scale_pre", "Pre-LN (scaled init)"),
    LNS("LNS", "LNS"),
    POST("post", "Post-LN"),
    DEEPPOST("deeppost", "DeepNorm post"),
    SANDWICH("sandwich", "Sandwich-LN / Peri-LN"),
    POST_PRE("post_pre", "Mix-LN"),
    SCALE_POST_PRE("scale_post_pre", "Mix-LN (scaled init)"),
    PRE_POST("pre_post", "Pre-LN then Post-LN"),
    PRE_SANDWICH("pre_sandwich", "Pre-LN then Sandwich-LN"),
    SCALE_RES_PRE_NORM("scale_res_pre_norm", "Pre-LN, learned residual scalars"),
    OUTPUT_NORM("output_norm", "Output-norm"),
    PARALLEL("parallel", "Parallel residual");

    /** pre_post and pre_sandwich: blocks below this index are Pre-LN (a constant of the code). */
    public static final int PRE_BLOCKS = 7;
    /** deeppost's residual factor, as the code writes it. */
    public static final double DEEPPOST_ALPHA = 2.8284271247461903;

    private static final BlockForm PRE_LN = new BlockForm.PreNorm(1.0), POST_LN = new BlockForm.PostNorm(1.0),
            SANDWICH_LN = new BlockForm.Sandwich(), OUTPUT = new BlockForm.OutputNorm(), PARALLEL_FORM = new BlockForm.Parallel();

    private final String code;
    private final String label;

    NormType(String code, String label) {
        this.code = code;
        this.label = label;
    }

    /** The code's own name ({@code NORM_TYPE} value). */
    public String code() {
        return code;
    }

    /** The name the report and the paper use ("Pre-LN", "Mix-LN", ...). */
    public String label() {
        return label;
    }

    /** Whether {@code POST_NUM} (the number of leading Post-LN blocks) applies. */
    public boolean usesPostNum() {
        return this == POST_PRE || this == SCALE_POST_PRE;
    }

    /** The type named {@code name} (case-insensitive), or null: any type, as recorded in a result's provenance. */
    public static NormType parse(String name) {
        for (NormType t : values()) if (t.code.equalsIgnoreCase(name.strip())) return t;
        return null;
    }

    /** A {@code NORM_TYPE} of the Curse-of-Depth code named {@code name} (case-insensitive), or null. */
    public static NormType parseCode(String name) {
        NormType t = parse(name);
        return t != null && t.trainingCode() ? t : null;
    }

    /** Whether the Curse-of-Depth code trains this form (a {@code --norm-type} value). */
    public boolean trainingCode() {
        return this != OUTPUT_NORM && this != PARALLEL;
    }

    /** "pre, scale_pre, LNS, ..." for messages: the code's names. */
    public static String names() {
        return String.join(", ", java.util.Arrays.stream(values()).filter(NormType::trainingCode).map(NormType::code).toList());
    }

    /**
     * The form of each of {@code layers} blocks.
     *
     * @param lns LNS factor per block (null: 1/sqrt(l+1)); only {@link #LNS} reads it
     */
    public List<BlockForm> blocks(int layers, int postNum, double[] lns) {
        List<BlockForm> out = new ArrayList<>();
        for (int l = 0; l < layers; l++) {
            out.add(switch (this) {
                case PRE, SCALE_PRE -> PRE_LN;
                case LNS -> new BlockForm.PreNorm(lns != null ? lns[l] : 1.0 / Math.sqrt(l + 1));
                case POST -> POST_LN;
                case DEEPPOST -> new BlockForm.PostNorm(DEEPPOST_ALPHA);
                case SANDWICH -> SANDWICH_LN;
                case POST_PRE, SCALE_POST_PRE -> l < postNum ? POST_LN : PRE_LN;
                case PRE_POST -> l < PRE_BLOCKS ? PRE_LN : POST_LN;
                case PRE_SANDWICH -> l < PRE_BLOCKS ? PRE_LN : SANDWICH_LN;
                case SCALE_RES_PRE_NORM -> new BlockForm.PreNorm(1.0, true);
                case OUTPUT_NORM -> OUTPUT;
                case PARALLEL -> PARALLEL_FORM;
            });
        }
        return List.copyOf(out);
    }

    /** "Mix-LN (post_pre, POST_NUM=2)", "LNS", "Post-LN (post)". */
    public String describe(int postNum) {
        return code.equals(label) ? label : label + " (" + code + (usesPostNum() ? ", POST_NUM=" + postNum : "") + ")";
    }
}
