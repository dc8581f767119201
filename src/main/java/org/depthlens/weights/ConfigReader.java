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
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Typed access to one config.json, with one-line errors naming the file and the key. Which keys a
 * model reads and their defaults belong to its family description; this class only knows JSON, the
 * two rope styles (transformers v5 {@code rope_parameters}; Hub originals {@code rope_theta} +
 * {@code rope_scaling}), {@code layernorm_scaling} and FP8 block sizes.
 *
 * <p>A key absent from the file gets the family's code default (shared/docs/architectures.md §3):
 * checkpoints state their real values and HF's class defaults differ from them, so a key is only
 * defaulted when the file is silent.
 */
public final class ConfigReader {
    private final Path file;
    private final JsonNode root;
    private final Map<String, Object> defaults;
    /** Where {@link #root} sits in the file: "" for the whole file, "text_config." for a nested object ({@link #nested}). */
    private final String at;
    /** Every key a reader asked about, in order (ConfigKeysTest checks them against the family's declaration). */
    private final Set<String> consulted = new LinkedHashSet<>();

    public ConfigReader(Path file, JsonNode root, Map<String, Object> defaults) {
        this(file, root, defaults, "");
    }

    private ConfigReader(Path file, JsonNode root, Map<String, Object> defaults, String at) {
        this.file = file;
        this.root = root;
        this.defaults = defaults;
        this.at = at;
    }

    /**
     * A reader of the object {@code key} of this one (a multimodal wrapper's {@code text_config}), with its own
     * defaults; its errors name the key with its path ({@code text_config.num_hidden_layers}).
     */
    public ConfigReader nested(String key, Map<String, Object> defaults) {
        JsonNode v = root.get(key);
        if (v == null || !v.isObject()) throw error("'" + name(key) + "' must be an object");
        return new ConfigReader(file, v, defaults, at + key + ".");
    }

    /** {@code key} as the file's reader finds it: with the path of a {@link #nested} object. */
    public String name(String key) {
        return at + key;
    }

    /** The JSON object of {@code modelDir/config.json}. */
    public static JsonNode readJson(Path modelDir) {
        Path file = modelDir.resolve("config.json");
        if (!Files.isDirectory(modelDir)) throw new BadInputException(modelDir + ": model directory not found");
        JsonNode root;
        try {
            if (!Files.exists(file)) throw new NoSuchFileException(file.toString());
            root = org.depthlens.JsonErrors.strictMapper().readTree(org.depthlens.util.InputFiles.read(file, "config.json",
                    org.depthlens.util.InputFiles.MAX_JSON_BYTES));
        } catch (NoSuchFileException e) {
            throw new BadInputException(file + ": not found (a HF model folder needs its config.json)");
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            String dup = org.depthlens.JsonErrors.duplicateKey(e);
            if (dup != null) throw new BadInputException(file + ": key '" + dup + "' appears twice (transformers would silently take the last one); keep one");
            throw new BadInputException(file + ": not valid JSON (" + org.depthlens.JsonErrors.describe(e) + ")");
        } catch (IOException e) {
            throw new BadInputException(file + ": cannot read (" + e.getMessage() + ")");
        }
        if (root == null || !root.isObject()) throw new BadInputException(file + ": not a JSON object");
        return root;
    }

    public Path file() {
        return file;
    }

    /** The keys the file itself holds, in file order. */
    public List<String> fileKeys() {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }

    /** The file's own value of {@code key} (JSON null included), or null when the file does not hold it. */
    public JsonNode raw(String key) {
        return root.get(key);
    }

    /** Every key read through this reader so far (whether the file holds it or not). */
    public Set<String> consulted() {
        return Set.copyOf(consulted);
    }

    /** A one-line bad-input error naming this config file. */
    public BadInputException error(String what) {
        return new BadInputException(file + ": " + what);
    }

    /**
     * An explicit {@code null} in the file is HF's {@code None}, not "use the class default": Mistral
     * v0.2's {@code "sliding_window": null} disables the window, DeepSeek's {@code "q_lora_rank": null}
     * means a plain q_proj, {@code "head_dim": null} means hidden/heads.
     */
    public boolean has(String key) {
        consulted.add(key);
        return root.has(key) ? !root.get(key).isNull() : defaults.containsKey(key);
    }

    /** True when the file itself states a non-null value (defaults do not count). */
    public boolean inFile(String key) {
        consulted.add(key);
        return root.hasNonNull(key);
    }

    private JsonNode get(String key) {
        consulted.add(key);
        JsonNode v = root.get(key);
        if (v != null) return v;
        Object d = defaults.get(key);
        if (d == null) return NullNode.getInstance();
        return new ObjectMapper().valueToTree(d);
    }

    private long integer(String key) {
        JsonNode v = get(key);
        if (v.isNull()) throw error("missing key '" + name(key) + "'");
        if (!v.isIntegralNumber() && !(v.isNumber() && v.asDouble() == Math.rint(v.asDouble()))) {
            throw error("'" + name(key) + "' must be an integer, got " + v);
        }
        if (!v.canConvertToLong() || Math.abs(v.asLong()) > Integer.MAX_VALUE) throw error("'" + name(key) + "' is out of range: " + v);
        return v.asLong();
    }

    public int positiveInt(String key) {
        long v = integer(key);
        if (v <= 0) throw error("'" + name(key) + "' must be positive, got " + v);
        return (int) v;
    }

    public int nonNegativeInt(String key) {
        long v = integer(key);
        if (v < 0) throw error("'" + name(key) + "' must not be negative, got " + v);
        return (int) v;
    }

    /** The integer, or null when absent or null. */
    public Integer optionalInt(String key) {
        return get(key).isNull() ? null : (int) integer(key);
    }

    /** A positive integer, or null when absent, null or 0 (HF treats a 0 window or rank as none). */
    public Integer optionalPositiveInt(String key) {
        if (get(key).isNull()) return null;
        long v = integer(key);
        if (v < 0) throw error("'" + name(key) + "' must not be negative, got " + v);
        return v == 0 ? null : (int) v;
    }

    public double positiveDouble(String key) {
        JsonNode v = get(key);
        if (v.isNull()) throw error("missing key '" + name(key) + "'");
        if (!v.isNumber() || !(v.asDouble() > 0) || Double.isInfinite(v.asDouble())) {
            throw error("'" + name(key) + "' must be a positive number, got " + v);
        }
        return v.asDouble();
    }

    public boolean bool(String key, boolean dflt) {
        JsonNode v = get(key);
        if (v.isNull()) return dflt;
        if (!v.isBoolean()) throw error("'" + name(key) + "' must be true or false, got " + v);
        return v.asBoolean();
    }

    public String string(String key) {
        JsonNode v = get(key);
        return v.isNull() ? null : v.asText();
    }

    public List<Integer> intList(String key) {
        JsonNode v = get(key);
        List<Integer> out = new ArrayList<>();
        if (v.isNull()) return out;
        if (!v.isArray()) throw error("'" + name(key) + "' must be a list of integers");
        for (JsonNode e : v) {
            if (!e.isIntegralNumber()) throw error("'" + name(key) + "' must be a list of integers");
            out.add(e.asInt());
        }
        return List.copyOf(out);
    }

    /** A list of exactly {@code expectedSize} strings, or null when absent. */
    public List<String> stringList(String key, int expectedSize) {
        JsonNode v = get(key);
        if (v.isNull()) return null;
        if (!v.isArray() || v.size() != expectedSize) throw error("'" + name(key) + "' must be a list of " + expectedSize + " strings");
        List<String> out = new ArrayList<>();
        for (JsonNode e : v) out.add(e.asText());
        return List.copyOf(out);
    }

    /** The rope settings in either style; {@code rope_theta} inside the rope object wins over the top-level key. */
    public RopeConfig rope() {
        consulted.add("rope_parameters");
        consulted.add("rope_scaling");
        consulted.add("original_max_position_embeddings");
        JsonNode p = root.get("rope_parameters");
        if (p == null || p.isNull()) p = root.get("rope_scaling");
        else checkRopeStylesAgree(p, root.get("rope_scaling"));
        return rope(p);
    }

    /**
     * Whether {@code rope_parameters} holds one rope object per attention type (transformers v5's Gemma-3:
     * {@code {"full_attention": {...}, "sliding_attention": {...}}}).
     */
    public boolean ropePerLayerType() {
        consulted.add("rope_parameters");
        JsonNode p = root.get("rope_parameters");
        return p != null && p.isObject() && (p.has("full_attention") || p.has("sliding_attention"));
    }

    /** The rope object of attention type {@code layerType} in a per-type {@code rope_parameters}, or null when absent. */
    public RopeConfig rope(String layerType) {
        consulted.add("rope_parameters");
        JsonNode p = root.path("rope_parameters").get(layerType);
        if (p == null || p.isNull()) return null;
        if (!p.isObject()) throw error(name("rope_parameters." + layerType) + " is not an object");
        return rope(p);
    }

    private RopeConfig rope(JsonNode p) {
        double theta;
        if (p != null && p.isObject() && p.has("rope_theta")) {
            JsonNode t = p.get("rope_theta");
            if (!t.isNumber() || !(t.asDouble() > 0) || Double.isInfinite(t.asDouble())) {
                throw error("'" + name("rope_theta") + "' must be a positive number, got " + t);
            }
            theta = t.asDouble();
        } else {
            theta = positiveDouble("rope_theta");
        }
        if (p == null || p.isNull()) return RopeConfig.defaults(theta);
        if (!p.isObject()) throw error(name("rope_parameters") + "/" + name("rope_scaling") + " is not an object");
        String object = root.hasNonNull("rope_parameters") ? "rope_parameters" : "rope_scaling";
        String typeKey = p.hasNonNull("rope_type") ? "rope_type" : "type";
        String type = p.hasNonNull(typeKey) ? p.get(typeKey).asText() : "default";
        if (!List.of("default", "linear", "dynamic", "llama3", "yarn").contains(type)) {
            throw error(name(object + "." + typeKey) + " = " + p.get(typeKey) + ": not implemented (depthlens implements the rope types"
                    + " default, linear, dynamic, llama3 and yarn)");
        }
        // HF's v5 rope tables read a partial_rotary_factor from the rope object: only families that rotate part of
        // each head read it (partialRotaryFactor), for the others it must be 1
        JsonNode partial = p.get("partial_rotary_factor");
        if (!partialRotary && partial != null && !partial.isNull() && !(partial.isNumber() && partial.asDouble() == 1.0)) {
            throw error(name(object + ".partial_rotary_factor") + " = " + partial + ": not implemented (depthlens rotates the whole head,"
                    + " partial_rotary_factor 1)");
        }
        for (String k : List.of("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings", "beta_fast",
                "beta_slow", "mscale", "mscale_all_dim", "attention_factor")) {
            JsonNode v = p.get(k);
            if (v != null && !v.isNull() && (!v.isNumber() || !Double.isFinite(v.asDouble()))) {
                throw error("'" + name(object + "." + k) + "' must be a number, got " + v);
            }
        }
        return new RopeConfig(type, theta, dbl(p, "factor"), dbl(p, "low_freq_factor"), dbl(p, "high_freq_factor"),
                p.hasNonNull("original_max_position_embeddings") ? Integer.valueOf(p.get("original_max_position_embeddings").asInt())
                        : root.hasNonNull("original_max_position_embeddings")
                        ? Integer.valueOf(root.get("original_max_position_embeddings").asInt()) : null,
                dbl(p, "beta_fast"), dbl(p, "beta_slow"), dbl(p, "mscale"), dbl(p, "mscale_all_dim"),
                dbl(p, "attention_factor"), p.hasNonNull("truncate") ? p.get("truncate").asBoolean() : null);
    }

    /**
     * A file with both rope styles: HF v5 takes a non-empty {@code rope_scaling} over {@code rope_parameters}
     * (filling rope_theta from the top level), older readers the other way; they must say the same.
     */
    private void checkRopeStylesAgree(JsonNode params, JsonNode scaling) {
        if (scaling == null || scaling.isNull() || scaling.isObject() && scaling.isEmpty()) return;
        if (!ropeFields(params).equals(ropeFields(scaling))) {
            throw error(name("rope_parameters") + " " + params + " and " + name("rope_scaling") + " " + scaling + " disagree (HF reads rope_scaling, older"
                    + " readers rope_parameters); keep one");
        }
    }

    /** A rope object's fields but rope_theta, the type under one name, numbers as doubles. */
    private static Map<String, Object> ropeFields(JsonNode o) {
        Map<String, Object> m = new java.util.TreeMap<>();
        if (!o.isObject()) return Map.of("", o.toString());
        for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (e.getKey().equals("rope_theta") || e.getValue().isNull()) continue;
            String k = e.getKey().equals("type") ? "rope_type" : e.getKey();
            m.put(k, e.getValue().isNumber() ? (Object) e.getValue().asDouble() : e.getValue().toString());
        }
        return m;
    }

    private static Double dbl(JsonNode p, String key) {
        JsonNode v = p.get(key);
        return v == null || v.isNull() ? null : v.asDouble();
    }

    /** Set by {@link #partialRotaryFactor}: the family rotates part of each head, so the rope object may say how much. */
    private boolean partialRotary;

    /**
     * The fraction of each head that is rotated, for families that rotate part of it (Phi-3's and Phi-4-mini's
     * {@code partial_rotary_factor}, GPT-NeoX's {@code rotary_pct}): the rope object's {@code partial_rotary_factor}
     * (files written by transformers v5), else the top-level {@code key}.
     */
    public double partialRotaryFactor(String key) {
        partialRotary = true;
        consulted.add("rope_parameters");
        JsonNode p = root.get("rope_parameters");
        double f;
        if (p != null && p.isObject() && p.hasNonNull("partial_rotary_factor")) {
            JsonNode v = p.get("partial_rotary_factor");
            if (!v.isNumber() || !(v.asDouble() > 0)) throw error(name("rope_parameters.partial_rotary_factor") + " must be a positive number, got " + v);
            f = v.asDouble();
        } else {
            f = positiveDouble(key);
        }
        if (f > 1) throw error(name(key) + " " + f + " is above 1");
        return f;
    }

    /** {@code layernorm_scaling}: {@code true} means 1/sqrt(l+1), a list gives the factors per block; false/absent: null. */
    public double[] lnsFactors(int layers) {
        consulted.add("layernorm_scaling");
        return lnsFactors(file, root.get("layernorm_scaling"), layers);
    }

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

    /** The paper's factors 1/sqrt(l+1) for blocks l = 0..layers-1. */
    public static double[] defaultLns(int layers) {
        double[] f = new double[layers];
        for (int i = 0; i < layers; i++) f[i] = 1.0 / Math.sqrt(i + 1);
        return f;
    }

    /** {@code quantization_config.weight_block_size}, {rows, cols}; DeepSeek-V3's 128x128 when absent. */
    public int[] fp8BlockSize() {
        consulted.add("quantization_config");
        JsonNode q = root.get("quantization_config");
        if (q == null || !q.isObject() || !q.has("weight_block_size")) return new int[] {Checkpoint.DEFAULT_FP8_BLOCK, Checkpoint.DEFAULT_FP8_BLOCK};
        JsonNode b = q.get("weight_block_size");
        if (!b.isArray() || b.size() != 2 || !b.get(0).canConvertToInt() || !b.get(1).canConvertToInt()
                || b.get(0).asInt() <= 0 || b.get(1).asInt() <= 0) {
            throw error(name("quantization_config.weight_block_size") + " must be two positive integers");
        }
        return new int[] {b.get(0).asInt(), b.get(1).asInt()};
    }
}
