package org.depthlens;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * Every reference fixture of ../shared, listed once: each forward, probe, loader and trace test that runs "every
 * fixture" takes its cases from here (JUnit {@code @MethodSource("org.depthlens.FixtureSet#all")} and the other
 * selections), so a new family is its description plus one line below.
 *
 * @param source where the reference numbers come from
 * @param bf16   the reference rounds activations to bfloat16 as HF's bf16 forward does (tolerances 3e-3 on the
 *               stream, 5e-3 on metrics); the LitGPT references ran in float64 from the stored values, whatever
 *               their dtype, so they meet the float32 tolerances
 * @param moe    mixture-of-experts blocks
 * @param mla    latent attention (DeepSeek)
 */
public record FixtureSet(String name, Source source, boolean bf16, boolean moe, boolean mla) {

    /** The reference implementation and its folder under ../shared/fixtures. */
    public enum Source {
        /** HF transformers' own activations (float32 or bf16) and metrics. */
        HF("fixtures/hf"),
        /** LitGPT's model.py in float64, for the families whose blocks differ from Llama's. */
        LITGPT("fixtures/litgpt_ref");

        final String dir;

        Source(String dir) {
            this.dir = dir;
        }
    }

    public static final List<FixtureSet> ALL = List.of(
            hf("llama", false, false, false),
            hf("llama3_bf16_tied", true, false, false),
            hf("mistral_sliding", true, false, false),
            hf("qwen2_sharded", false, false, false),
            hf("qwen3", true, false, false),
            hf("mixtral", false, true, false),
            hf("qwen2_moe", false, true, false),
            hf("qwen3_moe", true, true, false),
            hf("deepseek_v2_lite", false, true, true),
            hf("deepseek_v3", true, true, true),
            litgpt("olmo"),
            litgpt("olmo2"),
            litgpt("gpt_neox"),
            litgpt("phi3"),
            litgpt("gemma2"),
            litgpt("gemma3_text"));

    private static FixtureSet hf(String name, boolean bf16, boolean moe, boolean mla) {
        return new FixtureSet(name, Source.HF, bf16, moe, mla);
    }

    private static FixtureSet litgpt(String name) {
        return new FixtureSet(name, Source.LITGPT, false, false, false);
    }

    /** The fixture named {@code name}. */
    public static FixtureSet of(String name) {
        for (FixtureSet f : ALL) if (f.name.equals(name)) return f;
        throw new IllegalArgumentException("no fixture " + name + " in FixtureSet.ALL");
    }

    /** Its folder (model/, reference.safetensors, reference.json). */
    public Path dir() {
        return Fixtures.shared().resolve(source.dir).resolve(name);
    }

    public Path model() {
        return dir().resolve("model");
    }

    /**
     * Tolerance of every resid.*, attn_out.*, mlp_out.* and logits, relative to the tensor's largest value. Gemma-2's
     * fixture is the one exception: its capped attention scores reach 30, where the float32 rounding of q and k
     * (5e-6 absolute on a score) moves the peaked attention weights, and the error doubles block after block: a plain
     * float32 NumPy forward of the same weights reaches 7.1e-6 on resid.4 and depthlens 1.1e-5 (float64: 1.3e-6;
     * tools/gemma2_float32_check.py). Its logits meet 1e-5.
     */
    public double streamTolerance() {
        return bf16 ? 3e-3 : name.equals("gemma2") ? 2e-5 : 1e-5;
    }

    /** Tolerance of each probe metric, relative: HF's float32 metrics were computed from float32 states like ours. */
    public double metricsTolerance() {
        return bf16 ? 5e-3 : source == Source.HF ? 1e-5 : 1e-4;
    }

    /** Whether the fixture also has the pre-v5 config ({@code config.legacy.json}: rope_theta + rope_scaling). */
    public boolean hasLegacyConfig() {
        return Files.exists(model().resolve("config.legacy.json"));
    }

    @Override
    public String toString() {
        return name;
    }

    private static Stream<String> names(Predicate<FixtureSet> p) {
        return ALL.stream().filter(p).map(FixtureSet::name);
    }

    /** Every fixture's name (JUnit method source). */
    public static Stream<String> all() {
        return names(f -> true);
    }

    /** Dense fixtures. */
    public static Stream<String> dense() {
        return names(f -> !f.moe);
    }

    /** Mixture-of-experts fixtures. */
    public static Stream<String> moeFixtures() {
        return names(f -> f.moe);
    }

    /** Fixtures whose reference is float32 or better (the tight tolerances). */
    public static Stream<String> float32() {
        return names(f -> !f.bf16);
    }

    /** The LitGPT references: the families whose blocks differ from Llama's. */
    public static Stream<String> litgpt() {
        return names(f -> f.source == Source.LITGPT);
    }
}
