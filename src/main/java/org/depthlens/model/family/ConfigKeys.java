package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.weights.ConfigReader;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * What a family does with each config.json key: every key of HF's configuration class for its
 * {@code model_type} (ConfigKeysTest walks HF's list) is {@link Use#READ read} by the description,
 * {@link Use#IGNORED ignored} with the reason it cannot change a float32 forward pass, or accepted
 * {@link Use#ONLY only} at the values depthlens implements, any other value being refused (exit 3) before
 * a number is computed. A key HF's class does not have is not read by HF's forward either, so it is
 * accepted and left unread ({@code inspect} lists it); the Curse-of-Depth code's own keys are declared here
 * because depthlens reads them (docs/design.md, "config keys").
 */
public final class ConfigKeys {
    /** How a key is treated. */
    public enum Use {
        /** The family description reads and validates it. */
        READ,
        /** It cannot change the forward pass of a float32 analysis; {@link Key#why} says why. */
        IGNORED,
        /** Accepted at the values depthlens implements (absent means HF's default, one of them); others are refused. */
        ONLY
    }

    /**
     * @param why      for IGNORED, why it cannot change the numbers; for ONLY, what depthlens implements
     * @param accepts  for ONLY, the values depthlens implements (the key absent always passes)
     */
    public record Key(String name, Use use, String why, Predicate<JsonNode> accepts) {
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Map<String, Key> keys;

    private ConfigKeys(Map<String, Key> keys) {
        this.keys = Collections.unmodifiableMap(keys);
    }

    /** Keys every family shares: PreTrainedConfig's, the fields every family class has, rope, and the Curse-of-Depth keys. */
    static final ConfigKeys COMMON = new ConfigKeys(new LinkedHashMap<>())
            .read("model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                    "num_key_value_heads", "rms_norm_eps", "max_position_embeddings", "tie_word_embeddings",
                    "rope_parameters", "rope_scaling", "rope_theta", "original_max_position_embeddings")
            .only("partial_rotary_factor", "rope on the whole head (partial_rotary_factor 1)", 1)
            .only("hidden_act", "silu (HF's ACT2FN maps \"silu\" and \"swish\" to the same SiLU)", "silu", "swish")
            .only("quantization_config",
                    "FP8 weights with DeepSeek-V3-style block scales (quant_method \"fp8\"), dequantized to float32",
                    v -> v.isNull() || v.isObject() && "fp8".equals(v.path("quant_method").asText(null)))
            // the Curse-of-Depth training code's keys: HF's classes do not have them, depthlens reads them (NormChoice)
            .read("norm_type", "post_num", "layernorm_scaling")
            .ignored("records which transformers wrote the file", "transformers_version")
            .ignored("names the Python class; depthlens runs model_type's causal LM (and notes Curse-of-Depth files by it)", "architectures")
            .ignored("the weights' storage dtype: depthlens reads each tensor's dtype from the weight files and computes in float32",
                    "dtype", "torch_dtype")
            .ignored("what HF returns (tuples, extra outputs), not how it computes them", "output_hidden_states", "output_attentions",
                    "return_dict", "use_cache")
            .ignored("the attention/expert kernel HF dispatches to (eager, sdpa, ...): the same maths up to rounding",
                    "attn_implementation", "experts_implementation")
            .ignored("labels and loss of sequence-classification heads, not the causal LM", "id2label", "label2id", "num_labels",
                    "problem_type")
            .ignored("maps Auto classes to the Hub's remote code; depthlens, like HF without trust_remote_code, runs its own"
                    + " description of model_type", "auto_map")
            .ignored("where the config was loaded from", "name_or_path", "_name_or_path", "_commit_hash")
            .ignored("generation only (encoder-decoder models); these families are decoder-only", "is_encoder_decoder")
            .ignored("splits a feed-forward into chunks of tokens for memory; these families do not use it, and chunking is exact",
                    "chunk_size_feed_forward")
            .ignored("special token ids for generation and padding; pad_token_id only zeroes the embedding row's gradient",
                    "bos_token_id", "eos_token_id", "pad_token_id")
            .ignored("initialises fresh weights; a checkpoint's weights are loaded", "initializer_range")
            .ignored("dropout is off at inference (HF's eval mode)", "attention_dropout")
            .only("per_layer_config", "no per-layer overrides of the architecture", v -> v.isNull() || v.isObject() && v.isEmpty()
                    || v.isArray() && v.isEmpty());

    /** These keys are read by the description. */
    ConfigKeys read(String... names) {
        return with(Arrays.stream(names).map(n -> new Key(n, Use.READ, null, null)).toList());
    }

    /** These keys cannot change the forward pass, for the reason {@code why}. */
    ConfigKeys ignored(String why, String... names) {
        return with(Arrays.stream(names).map(n -> new Key(n, Use.IGNORED, why, null)).toList());
    }

    /** {@code name} is accepted only at one of {@code values} (JSON-equal; numbers by value); {@code why} says what is implemented. */
    ConfigKeys only(String name, String why, Object... values) {
        List<JsonNode> ok = Arrays.stream(values).map(v -> (JsonNode) JSON.valueToTree(v)).toList();
        return only(name, why, v -> ok.stream().anyMatch(o -> same(o, v)));
    }

    /** {@code name} is accepted only where {@code accepts} holds. */
    ConfigKeys only(String name, String why, Predicate<JsonNode> accepts) {
        return with(List.of(new Key(name, Use.ONLY, why, accepts)));
    }

    /** A later declaration of a key replaces an earlier one (a family narrowing or widening a common key). */
    private ConfigKeys with(List<Key> added) {
        Map<String, Key> m = new LinkedHashMap<>(keys);
        for (Key k : added) {
            m.remove(k.name());
            m.put(k.name(), k);
        }
        return new ConfigKeys(m);
    }

    private static boolean same(JsonNode a, JsonNode b) {
        if (a.isNumber() && b.isNumber()) return a.asDouble() == b.asDouble();
        return a.equals(b);
    }

    /** The declaration of {@code name}, or null when the family does not declare it. */
    public Key get(String name) {
        return keys.get(name);
    }

    public Collection<Key> all() {
        return keys.values();
    }

    /**
     * Refuses (exit 3, naming the file and the key) a key the file holds at a value depthlens does not
     * implement; run before the description reads anything.
     */
    void check(ConfigReader c, String modelType) {
        for (String name : c.fileKeys()) {
            Key k = keys.get(name);
            if (k == null || k.use() != Use.ONLY) continue;
            JsonNode v = c.raw(name);
            if (!k.accepts().test(v)) {
                String shown = v.toString().length() > 80 ? v.toString().substring(0, 77) + "..." : v.toString();
                throw c.error(c.name(name) + " = " + shown + ": not implemented; depthlens computes " + modelType + " with " + k.why());
            }
        }
    }

    /** The file's keys the family does not declare (HF's class for the model_type does not read them either). */
    public List<String> unread(ConfigReader c) {
        List<String> out = new ArrayList<>();
        for (String name : c.fileKeys()) if (!keys.containsKey(name)) out.add(name);
        return out;
    }

    /** "12 read, 20 ignored, 3 only at implemented values". */
    public String summary() {
        Map<Use, Long> n = keys.values().stream().collect(Collectors.groupingBy(Key::use, Collectors.counting()));
        return n.getOrDefault(Use.READ, 0L) + " read, " + n.getOrDefault(Use.IGNORED, 0L) + " ignored, "
                + n.getOrDefault(Use.ONLY, 0L) + " only at implemented values";
    }
}
