package org.depthlens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import org.depthlens.BadInputException;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.Families;
import org.depthlens.model.family.Weight;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.util.Par;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Deterministic random checkpoints with the shapes of real models, for benchmarks and memory tests
 * (never for results): config.json, sharded safetensors with an index, and {@code ids.json}, a flat
 * list of random token ids to analyse them on.
 *
 * <p>Weights are uniform with standard deviation 0.02 (HF's {@code initializer_range}), norm gains are 1 (Gemma's
 * stored offsets 0) and norm biases 0,
 * so activations stay finite through every block. Each tensor's values depend only on the seed, its
 * name and its position: the same command writes the same bytes.
 */
public final class SyntheticCheckpoint {
    /** Elements generated per parallel chunk. */
    private static final int CHUNK = 1 << 20;
    /** Shard size (HF writes 5 GB shards; smaller ones keep each file well inside a 2 GiB mapping window count). */
    public static final long SHARD_BYTES = 2L << 30;
    /** Standard deviation of every random weight (HF's initializer_range). */
    static final double STD = 0.02;

    private SyntheticCheckpoint() {}

    /** A named model shape: the config.json it gets (model_type, sizes, rope, tying...). */
    public record Shape(String name, String description, Map<String, Object> config) {
        public int layers() {
            return ((Number) config.get("num_hidden_layers")).intValue();
        }
    }

    /** The shapes {@code depthlens synth --shape} knows, by name. */
    public static final Map<String, Shape> SHAPES = shapes();

    private static Map<String, Shape> shapes() {
        Map<String, Shape> m = new LinkedHashMap<>();
        add(m, "llama-3.2-1b", "Llama 3.2 1B: 16 blocks, hidden 2048, 32/8 heads, SwiGLU 8192, vocab 128256, tied",
                cfg("llama", "LlamaForCausalLM", 2048, 8192, 16, 32, 8, 128256, 131072, 1e-5, 500000.0, true,
                        "head_dim", 64, "bos_token_id", 128000, "eos_token_id", 128001,
                        "rope_scaling", Map.of("rope_type", "llama3", "factor", 32.0, "low_freq_factor", 1.0,
                                "high_freq_factor", 4.0, "original_max_position_embeddings", 8192)));
        add(m, "llama-2-7b", "Llama 2 7B: 32 blocks, hidden 4096, 32 heads, SwiGLU 11008, vocab 32000",
                cfg("llama", "LlamaForCausalLM", 4096, 11008, 32, 32, 32, 32000, 4096, 1e-5, 10000.0, false,
                        "bos_token_id", 1, "eos_token_id", 2));
        add(m, "llama-2-13b", "Llama 2 13B: 40 blocks, hidden 5120, 40 heads, SwiGLU 13824, vocab 32000",
                cfg("llama", "LlamaForCausalLM", 5120, 13824, 40, 40, 40, 32000, 4096, 1e-5, 10000.0, false,
                        "bos_token_id", 1, "eos_token_id", 2));
        add(m, "qwen2.5-7b", "Qwen2.5 7B: 28 blocks, hidden 3584, 28/4 heads with q/k/v biases, SwiGLU 18944, vocab 152064",
                cfg("qwen2", "Qwen2ForCausalLM", 3584, 18944, 28, 28, 4, 152064, 32768, 1e-6, 1000000.0, false,
                        "use_sliding_window", false, "sliding_window", 131072, "max_window_layers", 28,
                        "bos_token_id", 151643, "eos_token_id", 151645));
        add(m, "mistral-7b", "Mistral 7B v0.1: 32 blocks, hidden 4096, 32/8 heads, sliding window 4096, SwiGLU 14336, vocab 32000",
                cfg("mistral", "MistralForCausalLM", 4096, 14336, 32, 32, 8, 32000, 32768, 1e-5, 10000.0, false,
                        "sliding_window", 4096, "bos_token_id", 1, "eos_token_id", 2));
        add(m, "mixtral-small", "a small Mixtral: 8 blocks, hidden 1024, 16/4 heads, 8 experts of 3584, top-2, vocab 32000",
                cfg("mixtral", "MixtralForCausalLM", 1024, 3584, 8, 16, 4, 32000, 32768, 1e-5, 1000000.0, false,
                        "num_local_experts", 8, "num_experts_per_tok", 2, "sliding_window", null,
                        "bos_token_id", 1, "eos_token_id", 2));
        add(m, "gemma-2-2b", "Gemma 2 2B: 26 blocks, hidden 2304, 8/4 heads of 256, sandwich norms (1 + w), GeGLU 9216, even blocks "
                        + "sliding 4096, soft-capping 50/30, vocab 256000, tied",
                cfg("gemma2", "Gemma2ForCausalLM", 2304, 9216, 26, 8, 4, 256000, 8192, 1e-6, 10000.0, true,
                        "head_dim", 256, "hidden_act", "gelu_pytorch_tanh", "hidden_activation", "gelu_pytorch_tanh",
                        "query_pre_attn_scalar", 256, "sliding_window", 4096, "final_logit_softcapping", 30.0,
                        "attn_logit_softcapping", 50.0, "bos_token_id", 2, "eos_token_id", 1));
        add(m, "olmo-2-1124-7b", "OLMo 2 7B (1124): 32 blocks, hidden 4096, 32 heads, output norms (no input norm), q/k norm over all heads, "
                        + "SwiGLU 11008, vocab 100352",
                cfg("olmo2", "Olmo2ForCausalLM", 4096, 11008, 32, 32, 32, 100352, 4096, 1e-6, 500000.0, false,
                        "bos_token_id", 100257, "eos_token_id", 100257));
        add(m, "olmo-2-0425-1b", "OLMo 2 1B (0425): 16 blocks, hidden 2048, 16 heads, output norms, SwiGLU 8192, vocab 100352",
                cfg("olmo2", "Olmo2ForCausalLM", 2048, 8192, 16, 16, 16, 100352, 4096, 1e-6, 500000.0, false,
                        "bos_token_id", 100257, "eos_token_id", 100257));
        add(m, "pythia-1b", "Pythia 1B (GPT-NeoX): 16 blocks, hidden 2048, 8 heads, parallel residual, LayerNorm with bias, fused per-head "
                        + "qkv, rotary on 25 %, GELU 8192, vocab 50304",
                neox(cfg("gpt_neox", "GPTNeoXForCausalLM", 2048, 8192, 16, 8, 8, 50304, 2048, 1e-5, 10000.0, false,
                        "hidden_act", "gelu", "rotary_pct", 0.25, "rotary_emb_base", 10000, "layer_norm_eps", 1e-5,
                        "use_parallel_residual", true, "bos_token_id", 0, "eos_token_id", 0)));
        add(m, "llama-tiny-32", "a tiny Llama: 32 blocks, hidden 256, 8/4 heads, SwiGLU 704, vocab 8192 (quick runs of deep models)",
                cfg("llama", "LlamaForCausalLM", 256, 704, 32, 8, 4, 8192, 4096, 1e-5, 10000.0, false,
                        "bos_token_id", 1, "eos_token_id", 2));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** GPT-NeoX's config has neither rms_norm_eps, rope_theta nor num_key_value_heads (its own keys say the same). */
    private static Map<String, Object> neox(Map<String, Object> c) {
        c.remove("rms_norm_eps");
        c.remove("rope_theta");
        c.remove("num_key_value_heads");
        return c;
    }

    private static void add(Map<String, Shape> m, String name, String description, Map<String, Object> config) {
        m.put(name, new Shape(name, description, config));
    }

    private static Map<String, Object> cfg(String type, String arch, int hidden, int inter, int layers, int heads, int kv, int vocab,
                                           int maxPos, double eps, double theta, boolean tied, Object... extra) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(arch));
        c.put("model_type", type);
        c.put("hidden_size", hidden);
        c.put("intermediate_size", inter);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", heads);
        c.put("num_key_value_heads", kv);
        c.put("vocab_size", vocab);
        c.put("max_position_embeddings", maxPos);
        c.put("rms_norm_eps", eps);
        c.put("rope_theta", theta);
        c.put("tie_word_embeddings", tied);
        c.put("hidden_act", "silu");
        c.put("initializer_range", STD);
        for (int i = 0; i < extra.length; i += 2) c.put((String) extra[i], extra[i + 1]);
        c.put("torch_dtype", "bfloat16");
        c.put("depthlens_synthetic", "deterministic random weights for benchmarks and memory tests; never for results");
        return c;
    }

    /**
     * Writes {@code shape} (with {@code layers} blocks if not null) into {@code out}, which must not exist
     * yet or be empty. Returns the bytes of weights written.
     */
    public static long write(Shape shape, Integer layers, DType dtype, long seed, Path out) {
        if (dtype != DType.BF16 && dtype != DType.F32) throw new BadInputException("--dtype must be bf16 or f32, got " + dtype);
        Map<String, Object> config = new LinkedHashMap<>(shape.config());
        if (layers != null) config.put("num_hidden_layers", layers);
        Map<String, SafetensorsWriter.Tensor> data = new TreeMap<>();
        long bytes = 0;
        // the shapes all say 0.02; tests that need blocks with a visible effect give a larger initializer_range
        double std = config.get("initializer_range") instanceof Number x ? x.doubleValue() : STD;
        for (Weight w : weights(config)) {
            Weight.Init init = w.init();
            for (Weight.Part part : w.parts()) {
                String name = part.name();
                long[] s = part.shape();
                data.put(name, SafetensorsWriter.Tensor.streamed(dtype, s, sink -> fill(sink, name, numel(s), dtype, seed, init, std)));
                bytes += numel(s) * dtype.size();
            }
        }
        try {
            Files.createDirectories(out);
            try (var list = Files.list(out)) {
                // AtomicDir's marker is the only file an output folder may already hold
                if (list.anyMatch(p -> !p.getFileName().toString().equals(org.depthlens.util.AtomicDir.MARKER))) {
                    throw new BadInputException(out + ": output folder is not empty");
                }
            }
            ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
            SafetensorsWriter.writeSharded(out, data, SHARD_BYTES, Map.of("format", "pt", "depthlens_synthetic", "true"));
            SafetensorsWriter.writeAtomically(out.resolve("ids.json"),
                    ids(((Number) config.get("vocab_size")).intValue(), 16384, seed).getBytes(StandardCharsets.UTF_8));
            SafetensorsWriter.writeAtomically(out.resolve("config.json"), json.writeValueAsBytes(config));
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + out, e);
        }
        return bytes;
    }

    /**
     * The bytes of weights {@link #write} would write, computed from the one- and two-block descriptions (every block
     * of a shape has the same size), so that an absurd {@code layers} is measured without describing its blocks.
     * Long.MAX_VALUE when it overflows.
     */
    public static long bytes(Shape shape, Integer layers, DType dtype) {
        long b1 = bytesOf(shape, 1, dtype), b2 = bytesOf(shape, 2, dtype);
        long perBlock = b2 - b1, base = b1 - perBlock;
        try {
            return Math.addExact(base, Math.multiplyExact(perBlock, (long) (layers != null ? layers : shape.layers())));
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    private static long bytesOf(Shape shape, int layers, DType dtype) {
        Map<String, Object> config = new LinkedHashMap<>(shape.config());
        config.put("num_hidden_layers", layers);
        long bytes = 0;
        for (Weight w : weights(config)) for (Weight.Part part : w.parts()) bytes += numel(part.shape()) * dtype.size();
        return bytes;
    }

    /** Every weight of a checkpoint with this config, as its family's description lists them. */
    static List<Weight> weights(Map<String, Object> c) {
        return Families.describe(Path.of(c.get("model_type") + "/config.json"), new ObjectMapper().valueToTree(c),
                Architecture.LnsMode.AUTO).allWeights();
    }

    private static long numel(long[] s) {
        long n = 1;
        for (long v : s) n *= v;
        return n;
    }

    /** Pushes the tensor's values: chunks generated in parallel, written in order. */
    private static void fill(SafetensorsWriter.Sink sink, String name, long n, DType dtype, long seed, Weight.Init init, double std) throws IOException {
        long tensorSeed = mix(seed ^ mix(name.hashCode()) ^ ((long) name.length() << 32));
        int es = dtype.size();
        long chunks = (n + CHUNK - 1) / CHUNK;
        int batch = 4 * Par.threads();
        for (long c0 = 0; c0 < chunks; c0 += batch) {
            int nb = (int) Math.min(batch, chunks - c0);
            byte[][] out = new byte[nb][];
            long first = c0;
            Par.chunks(nb, 1, (i, a, b) -> {
                long from = (first + i) * CHUNK;
                int m = (int) Math.min(CHUNK, n - from);
                out[i] = chunk(m, dtype, mix(tensorSeed + first + i), init, es, std);
            });
            for (byte[] o : out) sink.bytes(o, 0, o.length);
        }
    }

    private static byte[] chunk(int m, DType dtype, long state, Weight.Init init, int es, double std) {
        byte[] b = new byte[m * es];
        float scale = (float) (std * Math.sqrt(3.0) / (1 << 23)); // uniform on [-a, a) has std a / sqrt(3)
        long s = state;
        for (int i = 0; i < m; i++) {
            float v;
            if (init == Weight.Init.ONES) {
                v = 1f;
            } else if (init == Weight.Init.ZEROS) {
                v = 0f;
            } else {
                s += 0x9E3779B97F4A7C15L;
                v = (int) (mix(s) >> 40) * scale; // 24 random bits, signed
            }
            if (dtype == DType.BF16) {
                short x = SafetensorsWriter.toBf16(v);
                b[2 * i] = (byte) x;
                b[2 * i + 1] = (byte) (x >> 8);
            } else {
                int x = Float.floatToRawIntBits(v);
                b[4 * i] = (byte) x;
                b[4 * i + 1] = (byte) (x >> 8);
                b[4 * i + 2] = (byte) (x >> 16);
                b[4 * i + 3] = (byte) (x >> 24);
            }
        }
        return b;
    }

    /** SplitMix64's finaliser. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** A flat JSON list of {@code count} deterministic random ids in [0, vocab). */
    public static String ids(int vocab, int count, long seed) {
        StringBuilder sb = new StringBuilder(count * 7).append('[');
        long s = mix(seed ^ 0x1D5L);
        for (int i = 0; i < count; i++) {
            s += 0x9E3779B97F4A7C15L;
            if (i > 0) sb.append(',');
            sb.append(Long.remainderUnsigned(mix(s), vocab));
        }
        return sb.append("]\n").toString();
    }
}
