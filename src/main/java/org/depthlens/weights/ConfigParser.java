package org.depthlens.weights;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.NullNode;
import org.depthlens.BadInputException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads config.json in both styles (transformers v5 {@code rope_parameters}; Hub originals
 * {@code rope_theta} + {@code rope_scaling}) and fills absent keys with each family's code defaults
 * (shared/docs/architectures.md §3): checkpoints state their real values, HF's class defaults
 * differ from them, so a key is only defaulted when the file is silent.
 */
public final class ConfigParser {
    public static final List<String> SUPPORTED = List.of(
            "llama", "mistral", "mixtral", "qwen2", "qwen3", "qwen2_moe", "qwen3_moe", "deepseek_v2", "deepseek_v3");

    /** Per-family code defaults of HF transformers, for keys absent from config.json. */
    private static final Map<String, Map<String, Object>> DEFAULTS = Map.of(
            "llama", m("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 11008, "num_hidden_layers", 32,
                    "num_attention_heads", 32, "rms_norm_eps", 1e-6, "rope_theta", 1e4, "max_position_embeddings", 2048),
            "mistral", m("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 14336, "num_hidden_layers", 32,
                    "num_attention_heads", 32, "num_key_value_heads", 8, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                    "max_position_embeddings", 131072, "sliding_window", 4096),
            "mixtral", m("vocab_size", 32000, "hidden_size", 4096, "intermediate_size", 14336, "num_hidden_layers", 32,
                    "num_attention_heads", 32, "num_key_value_heads", 8, "rms_norm_eps", 1e-5, "rope_theta", 1e6,
                    "max_position_embeddings", 131072, "num_local_experts", 8, "num_experts_per_tok", 2),
            "qwen2", m("vocab_size", 151936, "hidden_size", 4096, "intermediate_size", 22016, "num_hidden_layers", 32,
                    "num_attention_heads", 32, "num_key_value_heads", 32, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                    "max_position_embeddings", 32768, "sliding_window", 4096, "max_window_layers", 28),
            "qwen3", m("vocab_size", 151936, "hidden_size", 4096, "intermediate_size", 22016, "num_hidden_layers", 32,
                    "num_attention_heads", 32, "num_key_value_heads", 32, "head_dim", 128, "rms_norm_eps", 1e-6,
                    "rope_theta", 1e4, "max_position_embeddings", 32768, "sliding_window", 4096, "max_window_layers", 28),
            "qwen2_moe", m("vocab_size", 151936, "hidden_size", 2048,
                    "intermediate_size", 5632, "num_hidden_layers", 24, "num_attention_heads", 16,
                    "num_key_value_heads", 16, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                    "max_position_embeddings", 32768, "moe_intermediate_size", 1408,
                    "shared_expert_intermediate_size", 5632, "num_experts", 60,
                    "num_experts_per_tok", 4, "qkv_bias", true, "sliding_window", 4096,
                    "max_window_layers", 28),
            "qwen3_moe", m("vocab_size", 151936, "hidden_size", 2048,
                    "intermediate_size", 6144, "num_hidden_layers", 24, "num_attention_heads", 32,
                    "num_key_value_heads", 4, "head_dim", 128, "rms_norm_eps", 1e-6,
                    "rope_theta", 1e4, "max_position_embeddings", 32768,
                    "moe_intermediate_size", 768, "num_experts", 128, "num_experts_per_tok", 8,
                    "sliding_window", 4096, "max_window_layers", 28),
            "deepseek_v2", m("vocab_size", 102400, "hidden_size", 2048,
                    "intermediate_size", 10944, "num_hidden_layers", 27, "num_attention_heads", 16,
                    "num_key_value_heads", 16, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                    "max_position_embeddings", 2048, "kv_lora_rank", 512,
                    "qk_nope_head_dim", 128, "qk_rope_head_dim", 64, "v_head_dim", 128,
                    "n_routed_experts", 64, "n_shared_experts", 2, "num_experts_per_tok", 6,
                    "moe_intermediate_size", 1408, "first_k_dense_replace", 1,
                    "topk_method", "greedy", "n_group", 1, "topk_group", 1,
                    "routed_scaling_factor", 1.0),
            "deepseek_v3", m("vocab_size", 129280, "hidden_size", 7168,
                    "intermediate_size", 18432, "num_hidden_layers", 61, "num_attention_heads", 128,
                    "num_key_value_heads", 128, "rms_norm_eps", 1e-6, "rope_theta", 1e4,
                    "max_position_embeddings", 4096, "q_lora_rank", 1536, "kv_lora_rank", 512,
                    "qk_nope_head_dim", 128, "qk_rope_head_dim", 64, "v_head_dim", 128,
                    "n_routed_experts", 256, "n_shared_experts", 1, "num_experts_per_tok", 8,
                    "moe_intermediate_size", 2048, "first_k_dense_replace", 3,
                    "topk_method", "noaux_tc", "n_group", 8, "topk_group", 4,
                    "routed_scaling_factor", 2.5, "norm_topk_prob", true));

    private static Map<String, Object> m(Object... kv) {
        Map<String, Object> out = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) out.put((String) kv[i], kv[i + 1]);
        return Map.copyOf(out);
    }

    private ConfigParser() {}

    /** Parses {@code modelDir/config.json}. */
    public static ModelConfig read(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isDirectory(modelDir)) throw new BadInputException(modelDir + ": model directory not found");
        JsonNode root;
        try {
            root = new ObjectMapper().readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": not found (a HF model folder needs its config.json)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadInputException(file + ": not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) throw new BadInputException(file + ": not a JSON object");
        return parse(file, root);
    }

    public static ModelConfig parse(Path file, JsonNode root) {
        String type = root.path("model_type").asText(null);
        if (type == null || !DEFAULTS.containsKey(type)) {
            throw new BadInputException(file + ": unsupported model_type '" + type + "' (supported: " + String.join(", ", SUPPORTED) + ")");
        }
        Reader r = new Reader(file, root, DEFAULTS.get(type));
        boolean deepseek = type.startsWith("deepseek");

        int hidden = r.positiveInt("hidden_size");
        int heads = r.positiveInt("num_attention_heads");
        int kvHeads = r.has("num_key_value_heads") ? r.positiveInt("num_key_value_heads") : heads;
        if (heads % kvHeads != 0) {
            throw new BadInputException(file + ": num_key_value_heads " + kvHeads + " does not divide num_attention_heads " + heads);
        }
        int qkRope = deepseek ? r.positiveInt("qk_rope_head_dim") : 0;
        int headDim;
        if (deepseek) {
            headDim = qkRope; // HF sets head_dim = qk_rope_head_dim for DeepSeek; only the rope table uses it
        } else if (r.has("head_dim")) {
            headDim = r.positiveInt("head_dim");
        } else {
            if (hidden % heads != 0) {
                throw new BadInputException(file + ": num_attention_heads " + heads + " does not divide hidden_size " + hidden
                        + " and no head_dim is given");
            }
            headDim = hidden / heads;
        }
        int layers = r.positiveInt("num_hidden_layers");
        boolean qwen2Like = type.equals("qwen2") || type.equals("qwen2_moe");

        int experts = switch (type) {
            case "mixtral" -> r.positiveInt("num_local_experts");
            // v5 saves Qwen3-MoE's count as num_local_experts: the file's key wins over the class default
            case "qwen2_moe", "qwen3_moe" -> root.hasNonNull("num_experts") || !root.hasNonNull("num_local_experts")
                    ? r.nonNegativeInt("num_experts") : r.nonNegativeInt("num_local_experts");
            case "deepseek_v2", "deepseek_v3" -> r.positiveInt("n_routed_experts");
            default -> 0;
        };

        return new ModelConfig(
                file, type,
                r.positiveInt("vocab_size"), hidden, r.positiveInt("intermediate_size"), layers, heads, kvHeads, headDim,
                r.positiveDouble("rms_norm_eps"),
                rope(r, root),
                r.positiveInt("max_position_embeddings"),
                r.bool("tie_word_embeddings", false),
                r.bool("attention_bias", false),
                qwen2Like ? r.bool("qkv_bias", true) : false,
                r.bool("mlp_bias", false),
                r.optionalPositiveInt("sliding_window"),
                r.bool("use_sliding_window", false),
                r.optionalInt("max_window_layers"),
                r.stringList("layer_types", layers),
                r.optionalInt("bos_token_id"),
                r.optionalInt("eos_token_id"),
                lnsFactors(file, root.get("layernorm_scaling"), layers),
                experts,
                experts > 0 ? r.positiveInt("num_experts_per_tok") : 0,
                experts > 0 && !type.equals("mixtral") ? r.positiveInt("moe_intermediate_size") : 0,
                type.equals("qwen2_moe") ? r.nonNegativeInt("shared_expert_intermediate_size") : 0,
                deepseek && r.has("n_shared_experts") ? r.nonNegativeInt("n_shared_experts") : 0, // null: no shared experts
                r.bool("norm_topk_prob", false),
                r.has("decoder_sparse_step") ? r.positiveInt("decoder_sparse_step") : 1,
                r.intList("mlp_only_layers"),
                deepseek ? r.nonNegativeInt("first_k_dense_replace") : 0,
                deepseek ? r.string("topk_method") : null,
                deepseek ? r.positiveInt("n_group") : 1,
                deepseek ? r.positiveInt("topk_group") : 1,
                deepseek ? r.positiveDouble("routed_scaling_factor") : 1.0,
                deepseek ? r.optionalPositiveInt("q_lora_rank") : null,
                deepseek ? r.positiveInt("kv_lora_rank") : 0,
                deepseek ? r.nonNegativeInt("qk_nope_head_dim") : 0,
                qkRope,
                deepseek ? r.positiveInt("v_head_dim") : 0,
                type.equals("deepseek_v2") || (type.equals("deepseek_v3") && r.bool("rope_interleave", true)),
                fp8Block(file, root),
                normType(file, root),
                r.has("post_num") ? r.nonNegativeInt("post_num") : null,
                root.path("architectures").path(0).isTextual() ? root.path("architectures").path(0).asText() : null);
    }

    private static RopeConfig rope(Reader r, JsonNode root) {
        JsonNode p = root.get("rope_parameters");
        if (p == null || p.isNull()) p = root.get("rope_scaling");
        double theta;
        if (p != null && p.isObject() && p.has("rope_theta")) {
            JsonNode t = p.get("rope_theta");
            if (!t.isNumber() || !(t.asDouble() > 0) || Double.isInfinite(t.asDouble())) {
                throw new BadInputException(r.file + ": 'rope_theta' must be a positive number, got " + t);
            }
            theta = t.asDouble();
        } else {
            theta = r.positiveDouble("rope_theta");
        }
        if (p == null || p.isNull()) return RopeConfig.defaults(theta);
        if (!p.isObject()) throw new BadInputException(r.file + ": rope_parameters/rope_scaling is not an object");
        String type = p.hasNonNull("rope_type") ? p.get("rope_type").asText() : p.hasNonNull("type") ? p.get("type").asText() : "default";
        if (!List.of("default", "linear", "dynamic", "llama3", "yarn").contains(type)) {
            throw new BadInputException(r.file + ": unsupported rope type '" + type + "' (supported: default, linear, dynamic, llama3, yarn)");
        }
        for (String k : List.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "beta_fast",
                "beta_slow", "mscale", "mscale_all_dim", "attention_factor")) {
            JsonNode v = p.get(k);
            if (v != null && !v.isNull() && (!v.isNumber() || !Double.isFinite(v.asDouble()))) {
                throw new BadInputException(r.file + ": rope '" + k + "' must be a number, got " + v);
            }
        }
        return new RopeConfig(type, theta, dbl(p, "factor"), dbl(p, "low_freq_factor"), dbl(p, "high_freq_factor"),
                p.hasNonNull("original_max_position_embeddings") ? Integer.valueOf(p.get("original_max_position_embeddings").asInt())
                        : root.hasNonNull("original_max_position_embeddings")
                        ? Integer.valueOf(root.get("original_max_position_embeddings").asInt()) : null,
                dbl(p, "beta_fast"), dbl(p, "beta_slow"), dbl(p, "mscale"), dbl(p, "mscale_all_dim"),
                dbl(p, "attention_factor"), p.hasNonNull("truncate") ? p.get("truncate").asBoolean() : null);
    }

    private static Double dbl(JsonNode p, String key) {
        JsonNode v = p.get(key);
        return v == null || v.isNull() ? null : v.asDouble();
    }

    /** {@code true} means 1/sqrt(l+1); a list gives the factors per block; false/absent means Pre-LN. */
    public static double[] lnsFactors(Path file, JsonNode v, int layers) {
        if (v == null || v.isNull() || (v.isBoolean() && !v.asBoolean())) return null;
        if (v.isBoolean()) return defaultLns(layers);
        if (v.isArray()) {
            if (v.size() != layers) {
                throw new BadInputException(file + ": layernorm_scaling has " + v.size() + " factors for " + layers + " blocks");
            }
            double[] f = new double[layers];
            for (int i = 0; i < layers; i++) {
                if (!v.get(i).isNumber()) throw new BadInputException(file + ": layernorm_scaling[" + i + "] is not a number");
                f[i] = v.get(i).asDouble();
            }
            return f;
        }
        throw new BadInputException(file + ": layernorm_scaling must be true/false or a list of per-block factors");
    }

    public static double[] defaultLns(int layers) {
        double[] f = new double[layers];
        for (int i = 0; i < layers; i++) f[i] = 1.0 / Math.sqrt(i + 1);
        return f;
    }

    /** {@code "norm_type"}: a string (checked against the known names when the model is opened), or null. */
    private static String normType(Path file, JsonNode root) {
        JsonNode v = root.get("norm_type");
        if (v == null || v.isNull()) return null;
        if (!v.isTextual()) throw new BadInputException(file + ": 'norm_type' must be a string (a NORM_TYPE name such as \"post_pre\"), got " + v);
        return v.asText();
    }

    private static int[] fp8Block(Path file, JsonNode root) {
        JsonNode q = root.get("quantization_config");
        if (q == null || !q.isObject() || !q.has("weight_block_size")) return new int[] {128, 128};
        JsonNode b = q.get("weight_block_size");
        if (!b.isArray() || b.size() != 2 || !b.get(0).canConvertToInt() || !b.get(1).canConvertToInt()
                || b.get(0).asInt() <= 0 || b.get(1).asInt() <= 0) {
            throw new BadInputException(file + ": quantization_config.weight_block_size must be two positive integers");
        }
        return new int[] {b.get(0).asInt(), b.get(1).asInt()};
    }

    /** Typed access with defaults and one-line errors naming the key. */
    private static final class Reader {
        final Path file;
        final JsonNode root;
        final Map<String, Object> defaults;

        Reader(Path file, JsonNode root, Map<String, Object> defaults) {
            this.file = file;
            this.root = root;
            this.defaults = defaults;
        }

        /**
         * An explicit {@code null} in the file is HF's {@code None}, not "use the class default": Mistral
         * v0.2's {@code "sliding_window": null} disables the window, DeepSeek's {@code "q_lora_rank": null}
         * means a plain q_proj, {@code "head_dim": null} means hidden/heads.
         */
        boolean has(String key) {
            return root.has(key) ? !root.get(key).isNull() : defaults.containsKey(key);
        }

        JsonNode get(String key) {
            JsonNode v = root.get(key);
            if (v != null) return v;
            Object d = defaults.get(key);
            if (d == null) return NullNode.getInstance();
            return new ObjectMapper().valueToTree(d);
        }

        long integer(String key) {
            JsonNode v = get(key);
            if (v.isNull()) throw new BadInputException(file + ": missing key '" + key + "'");
            if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
                throw new BadInputException(file + ": '" + key + "' must be an integer, got " + v);
            }
            if (!v.canConvertToLong() || Math.abs(v.asLong()) > Integer.MAX_VALUE) {
                throw new BadInputException(file + ": '" + key + "' is out of range: " + v);
            }
            return v.asLong();
        }

        int positiveInt(String key) {
            long v = integer(key);
            if (v <= 0) throw new BadInputException(file + ": '" + key + "' must be positive, got " + v);
            return (int) v;
        }

        int nonNegativeInt(String key) {
            long v = integer(key);
            if (v < 0) throw new BadInputException(file + ": '" + key + "' must not be negative, got " + v);
            return (int) v;
        }

        Integer optionalInt(String key) {
            return get(key).isNull() ? null : (int) integer(key);
        }

        Integer optionalPositiveInt(String key) {
            return get(key).isNull() ? null : positiveIntOrNullIfZero(key);
        }

        private Integer positiveIntOrNullIfZero(String key) {
            long v = integer(key);
            if (v < 0) throw new BadInputException(file + ": '" + key + "' must not be negative, got " + v);
            return v == 0 ? null : (int) v;
        }

        double positiveDouble(String key) {
            JsonNode v = get(key);
            if (v.isNull()) throw new BadInputException(file + ": missing key '" + key + "'");
            if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
                throw new BadInputException(file + ": '" + key + "' must be a positive number, got " + v);
            }
            return v.asDouble();
        }

        boolean bool(String key, boolean dflt) {
            JsonNode v = get(key);
            if (v.isNull()) return dflt;
            if (!v.isBoolean()) throw new BadInputException(file + ": '" + key + "' must be true or false, got " + v);
            return v.asBoolean();
        }

        String string(String key) {
            JsonNode v = get(key);
            return v.isNull() ? null : v.asText();
        }

        List<Integer> intList(String key) {
            JsonNode v = get(key);
            List<Integer> out = new ArrayList<>();
            if (v.isNull()) return out;
            if (!v.isArray()) throw new BadInputException(file + ": '" + key + "' must be a list of integers");
            for (JsonNode e : v) {
                if (!e.isIntegralNumber()) throw new BadInputException(file + ": '" + key + "' must be a list of integers");
                out.add(e.asInt());
            }
            return List.copyOf(out);
        }

        List<String> stringList(String key, int expectedSize) {
            JsonNode v = get(key);
            if (v.isNull()) return null;
            if (!v.isArray() || v.size() != expectedSize) {
                throw new BadInputException(file + ": '" + key + "' must be a list of " + expectedSize + " strings");
            }
            List<String> out = new ArrayList<>();
            for (JsonNode e : v) out.add(e.asText());
            return List.copyOf(out);
        }
    }
}
