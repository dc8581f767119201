package org.depthlens.model.family;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where a block normalises its stream: the form decides which norm (and scalar) tensors the block owns
 * and how its two residual updates are built (the attention and feed-forward parts themselves do not
 * depend on it). Llama, Mistral, Qwen, DeepSeek, OLMo and Phi-3 are {@link PreNorm}, Gemma-2/3 {@link Sandwich},
 * OLMo-2 {@link OutputNorm}, GPT-NeoX {@link Parallel}; the training code of the Curse-of-Depth paper
 * ({@link NormType}) also trains post-norm, DeepNorm-style, sandwich and mixed stacks (a = attention,
 * m = MLP, n_X = the norm named {@code X}, of the model's {@link NormSpec} kind):
 * <pre>
 *   PreNorm:    x += r_a·a(s·n_in(x));  x += r_m·m(s·n_pa(x))      s: LNS factor; r: learned 0-dim scalars or 1
 *   PostNorm:   x = n_pa(α·x + a(x));   x = n_pf(α·x + m(x))        α: 1, or 2√2 for deeppost
 *   Sandwich:   x += n_pa(a(n_in(x)));  x += n_pf(m(n_pff(x)))      (Gemma's, also called Peri-LN)
 *   OutputNorm: x += n_pa(a(x));        x += n_pf(m(x))             (OLMo-2: no input norm)
 *   Parallel:   x += a(n_in(x)) + m(n_pa(x))                         (GPT-NeoX: both modules read the block's input)
 * </pre>
 * Roles: {@code norm.in} = input_layernorm, {@code norm.post} = post_attention_layernorm, {@code norm.pre_ff} =
 * pre_feedforward_layernorm, {@code norm.post_ff} = post_feedforward_layernorm, {@code res.attn} / {@code res.mlp} =
 * raw_scaling_factor_attn / _mlp.
 */
public sealed interface BlockForm permits BlockForm.PreNorm, BlockForm.PostNorm, BlockForm.Sandwich, BlockForm.OutputNorm,
        BlockForm.Parallel {

    /** The norm (and scale) tensors of a block with this form and norm kind, under the block's prefix, in forward order. */
    List<Weight> weights(String blockPrefix, int hidden, NormSpec norm);

    /** {@link #weights(String, int, NormSpec)} with RMSNorm (the Curse-of-Depth code's norms). */
    default List<Weight> weights(String blockPrefix, int hidden) {
        return weights(blockPrefix, hidden, NormSpec.rms(1e-6));
    }

    /** Whether the attention reads n_in(x) rather than x itself. */
    default boolean normsInput() {
        return true;
    }

    /** The norm {@code name} of the block under {@code role}. */
    private static List<Weight> norm(NormSpec n, String role, String p, String name, int hidden) {
        return n.weights(role, p + name, hidden);
    }

    /** The weights of several norms, in order. */
    @SafeVarargs
    private static List<Weight> all(List<Weight>... parts) {
        List<Weight> w = new ArrayList<>();
        for (List<Weight> p : parts) w.addAll(p);
        return w;
    }

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
        public List<Weight> weights(String p, int hidden, NormSpec n) {
            List<Weight> w = all(norm(n, "norm.in", p, "input_layernorm", hidden), norm(n, "norm.post", p, "post_attention_layernorm", hidden));
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
        public List<Weight> weights(String p, int hidden, NormSpec n) {
            return all(norm(n, "norm.post", p, "post_attention_layernorm", hidden), norm(n, "norm.post_ff", p, "post_feedforward_layernorm", hidden));
        }

        @Override
        public boolean normsInput() {
            return false;
        }

        @Override
        public String describe() {
            return alpha == 1.0 ? "post-norm" : "post-norm, residual x" + alpha;
        }
    }

    /** Sandwich-LN: each module's input and output are normalised. */
    record Sandwich() implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden, NormSpec n) {
            return all(norm(n, "norm.in", p, "input_layernorm", hidden), norm(n, "norm.post", p, "post_attention_layernorm", hidden),
                    norm(n, "norm.pre_ff", p, "pre_feedforward_layernorm", hidden),
                    norm(n, "norm.post_ff", p, "post_feedforward_layernorm", hidden));
        }

        @Override
        public String describe() {
            return "sandwich-norm";
        }
    }

    /**
     * OLMo-2: the modules read the stream itself and their outputs are normalised before the residual add. Its
     * tensors are the same as {@link PostNorm}'s (post_attention_layernorm, post_feedforward_layernorm): only the
     * family can tell them apart, never the files.
     */
    record OutputNorm() implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden, NormSpec n) {
            return all(norm(n, "norm.post", p, "post_attention_layernorm", hidden), norm(n, "norm.post_ff", p, "post_feedforward_layernorm", hidden));
        }

        @Override
        public boolean normsInput() {
            return false;
        }

        @Override
        public String kind() {
            return "output-norm";
        }

        @Override
        public String describe() {
            return "output-norm (sublayer outputs normalised, no input norm)";
        }
    }

    /** GPT-NeoX's parallel residual: attention and MLP both read the block's input, through their own norm. */
    record Parallel() implements BlockForm {
        @Override
        public List<Weight> weights(String p, int hidden, NormSpec n) {
            return all(norm(n, "norm.in", p, "input_layernorm", hidden), norm(n, "norm.post", p, "post_attention_layernorm", hidden));
        }

        @Override
        public String describe() {
            return "parallel residual";
        }
    }
}
