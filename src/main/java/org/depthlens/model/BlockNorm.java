package org.depthlens.model;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Where one block puts its RMSNorms (the forms of the Curse-of-Depth training code; a = attention,
 * m = MLP, n_X = the norm with weight {@code X.weight}):
 * <ul>
 *   <li>{@link Kind#PRE}: {@code x += r_a·a(s·n_in(x)); x += r_m·m(s·n_pa(x))} with s the LNS factor (1 for Pre-LN)
 *       and r_a, r_m the learned 0-dim residual scalars of {@code scale_res_pre_norm} (1 otherwise);</li>
 *   <li>{@link Kind#POST}: {@code x = n_pa(α·x + a(x)); x = n_pf(α·x + m(x))} with α = 1, or 2√2 for deeppost;</li>
 *   <li>{@link Kind#SANDWICH}: {@code x += n_pa(a(n_in(x))); x += n_pf(m(n_pff(x)))}.</li>
 * </ul>
 *
 * @param scale           s, the LayerNorm Scaling factor of the pre-norm outputs (PRE only; 1 otherwise)
 * @param alpha           α, the factor of the residual before a post-norm (POST only; 1 otherwise)
 * @param learnedResidual r_a and r_m are read from the block's {@code raw_scaling_factor_attn/_mlp} (PRE only)
 */
public record BlockNorm(Kind kind, double scale, double alpha, boolean learnedResidual) {
    public enum Kind { PRE, POST, SANDWICH }

    /** The norm and scalar tensors a block of each kind may hold, by role (file name after the block prefix). */
    public static final Map<String, String> TENSORS = tensors("norm.in", "input_layernorm.weight", "norm.post", "post_attention_layernorm.weight",
            "norm.pre_ff", "pre_feedforward_layernorm.weight", "norm.post_ff", "post_feedforward_layernorm.weight",
            "res.attn", "raw_scaling_factor_attn", "res.mlp", "raw_scaling_factor_mlp");

    public static final BlockNorm PRE_LN = pre(1.0);

    public BlockNorm {
        if (kind != Kind.PRE && (scale != 1.0 || learnedResidual)) throw new IllegalArgumentException(kind + " has no LNS factor or residual scalars");
        if (kind != Kind.POST && alpha != 1.0) throw new IllegalArgumentException(kind + " has no residual factor");
    }

    public static BlockNorm pre(double lnsScale) {
        return new BlockNorm(Kind.PRE, lnsScale, 1.0, false);
    }

    public static BlockNorm post(double alpha) {
        return new BlockNorm(Kind.POST, 1.0, alpha, false);
    }

    public static BlockNorm sandwich() {
        return new BlockNorm(Kind.SANDWICH, 1.0, 1.0, false);
    }

    public static BlockNorm withResidualScalars() {
        return new BlockNorm(Kind.PRE, 1.0, 1.0, true);
    }

    /** The roles (keys of {@link #TENSORS}) this block reads, in the order the forward uses them. */
    public java.util.List<String> roles() {
        return switch (kind) {
            case PRE -> learnedResidual ? java.util.List.of("norm.in", "res.attn", "norm.post", "res.mlp") : java.util.List.of("norm.in", "norm.post");
            case POST -> java.util.List.of("norm.post", "norm.post_ff");
            case SANDWICH -> java.util.List.of("norm.in", "norm.post", "norm.pre_ff", "norm.post_ff");
        };
    }

    /** "pre", "pre (LNS 0.5)", "post (α 2.83)", "sandwich", "pre (learned residual scalars)". */
    public String describe() {
        String k = kind.name().toLowerCase(java.util.Locale.ROOT);
        if (scale != 1.0) return k + " (LNS " + String.format(java.util.Locale.ROOT, "%.4g", scale) + ")";
        if (alpha != 1.0) return k + " (α " + String.format(java.util.Locale.ROOT, "%.4g", alpha) + ")";
        if (learnedResidual) return k + " (learned residual scalars)";
        return k;
    }

    private static Map<String, String> tensors(String... kv) {
        Map<String, String> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put(kv[i], kv[i + 1]);
        return java.util.Collections.unmodifiableMap(m);
    }
}
