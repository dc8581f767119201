package org.depthlens.model.family;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.BadInputException;
import org.depthlens.Fixtures;
import org.depthlens.weights.ConfigReader;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every config key HF's configuration class has for a family's model_type is classified by that family
 * (read, ignored with a reason, or accepted only at implemented values), against the key lists of
 * src/test/resources/hf-config-keys.json, written by tools/hf_config_keys.py from HF's own class text; and
 * what a family declares read is what its description really reads on every config the project ships.
 */
class ConfigKeysTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode hfKeys() throws IOException {
        try (InputStream in = ConfigKeysTest.class.getResourceAsStream("/hf-config-keys.json")) {
            assertNotNull(in, "hf-config-keys.json on the test class path");
            return JSON.readTree(in);
        }
    }

    /** The walk: a key HF's class has that the family does not classify fails here, naming both. */
    @Test
    void everyKeyOfHfsClassIsClassifiedByItsFamily() throws IOException {
        JsonNode hf = hfKeys();
        List<String> missing = new ArrayList<>();
        for (Family f : Families.ALL) {
            JsonNode mt = hf.path("model_types").get(f.modelType());
            if (mt == null) {
                missing.add(f.modelType() + ": no HF key list (add its configuration_*.py to tools/hf_config_keys.py)");
                continue;
            }
            Set<String> keys = new TreeSet<>();
            hf.get("common").forEach(k -> keys.add(k.asText()));
            mt.get("keys").forEach(k -> keys.add(k.asText()));
            for (String k : keys) if (f.configKeys().get(k) == null) missing.add(f.modelType() + ": " + k);
            System.out.println(f.modelType() + ": " + keys.size() + " HF keys; declared " + f.configKeys().summary());
        }
        assertTrue(missing.isEmpty(), "keys of HF's configuration classes no family classifies: " + missing);
    }

    /** An ONLY key accepts HF's own default (a file that leaves it out means that), and every declaration says why. */
    @Test
    void declarationsAreCompleteAndAcceptHfsDefaults() throws IOException {
        JsonNode hf = hfKeys();
        for (Family f : Families.ALL) {
            JsonNode defaults = hf.path("model_types").path(f.modelType()).path("defaults");
            for (ConfigKeys.Key k : f.configKeys().all()) {
                if (k.use() != ConfigKeys.Use.READ) {
                    assertTrue(k.why() != null && !k.why().isBlank(), f.modelType() + " " + k.name() + " needs a reason");
                }
                if (k.use() == ConfigKeys.Use.ONLY && defaults.has(k.name())) {
                    assertTrue(k.accepts().test(defaults.get(k.name())),
                            f.modelType() + " refuses HF's own default " + k.name() + " = " + defaults.get(k.name()));
                }
            }
        }
    }

    /** A key a file leaves out means HF's class default: where HF's is a literal, the family's default is the same. */
    @Test
    void defaultsAreHfsClassDefaults() throws IOException {
        JsonNode hf = hfKeys();
        List<String> differ = new ArrayList<>();
        for (Family f : Families.ALL) {
            JsonNode defaults = hf.path("model_types").path(f.modelType()).path("defaults");
            f.defaults().forEach((k, v) -> {
                JsonNode h = defaults.get(k);
                if (h == null || h.isNull()) return; // no literal default in HF's class (None: the family's own neutral value)
                JsonNode mine = JSON.valueToTree(v);
                boolean same = h.isNumber() && mine.isNumber() ? h.asDouble() == mine.asDouble() : h.equals(mine);
                if (!same) differ.add(f.modelType() + " " + k + ": depthlens " + mine + ", HF " + h);
            });
        }
        assertTrue(differ.isEmpty(), "defaults that are not HF's: " + differ);
    }

    /** The config.json files of every fixture and checkpoint the project is tested on. */
    static List<Path> shippedConfigs() throws IOException {
        List<Path> out = new ArrayList<>();
        for (String dir : List.of("fixtures/hf", "fixtures/litgpt_ref", "fixtures/lns_code", "checkpoints")) {
            try (Stream<Path> s = Files.walk(Fixtures.shared().resolve(dir))) {
                s.filter(p -> p.getFileName().toString().matches("config(\\.legacy)?\\.json")).sorted().forEach(out::add);
            }
        }
        try (Stream<Path> s = Files.walk(Path.of("models"))) {
            s.filter(p -> p.getFileName().toString().equals("config.json")).sorted().forEach(out::add);
        }
        // configs of families with no fixture of their own (gemma3: the multimodal wrapper, shaped like gemma-3-4b-pt's)
        try (Stream<Path> s = Files.walk(Path.of("src/test/resources/configs"))) {
            s.filter(p -> p.getFileName().toString().equals("config.json")).sorted().forEach(out::add);
        }
        return out;
    }

    /**
     * Each family describes its fixtures' configs unchanged (both rope styles), and on each the keys its
     * description consults are declared READ or ONLY, and every READ key the file holds was consulted.
     */
    @Test
    void declaredReadIsWhatTheDescriptionReads() throws IOException {
        List<Path> configs = shippedConfigs();
        assertTrue(configs.size() >= 30, "found " + configs.size() + " configs");
        Set<String> types = new TreeSet<>();
        for (Path file : configs) {
            JsonNode root = JSON.readTree(file.toFile());
            Family f = Families.of(root.path("model_type").asText());
            assertNotNull(f, file + ": model_type");
            types.add(f.modelType());
            ConfigReader c = new ConfigReader(file, root, f.defaults());
            f.configKeys().check(c, f.modelType());
            f.describe(c, f.normForm(c, NormChoice.AUTO, null, false));
            for (String k : c.consulted()) {
                ConfigKeys.Key d = f.configKeys().get(k);
                assertTrue(d != null && d.use() != ConfigKeys.Use.IGNORED, file + ": " + f.modelType()
                        + " reads '" + k + "' but declares it " + (d == null ? "not at all" : "ignored"));
            }
            for (String k : c.fileKeys()) {
                ConfigKeys.Key d = f.configKeys().get(k);
                if (d != null && d.use() == ConfigKeys.Use.READ && !k.equals("model_type")) { // Families.describe picks f by it
                    assertTrue(c.consulted().contains(k), file + ": " + f.modelType() + " declares '" + k + "' read but never reads it");
                }
            }
        }
        assertEquals(new TreeSet<>(Families.supported()), types, "a shipped config of every family");
    }

    private static ObjectNode llamaConfig() throws IOException {
        return (ObjectNode) JSON.readTree(Fixtures.hf("llama").resolve("model/config.json").toFile());
    }

    private static String refused(ObjectNode root) {
        Path file = Path.of("m/config.json");
        BadInputException e = assertThrows(BadInputException.class, () -> Families.describe(file, root, Architecture.LnsMode.AUTO));
        assertTrue(e.getMessage().startsWith(file + ": "), e.getMessage());
        return e.getMessage();
    }

    @Test
    void anActivationOtherThanSiluIsRefusedNamingTheKey() throws IOException {
        ObjectNode c = llamaConfig();
        c.put("hidden_act", "gelu_new");
        String m = refused(c);
        assertTrue(m.contains("hidden_act = \"gelu_new\": not implemented") && m.contains("silu"), m);
        c.put("hidden_act", 7);
        assertTrue(refused(c).contains("hidden_act = 7: not implemented"));
        c.put("hidden_act", "swish"); // ACT2FN's other name for SiLU
        Families.describe(Path.of("m/config.json"), c, Architecture.LnsMode.AUTO);
    }

    @Test
    void valuesDepthlensDoesNotImplementAreRefused() throws IOException {
        ObjectNode c = llamaConfig();
        c.putObject("rope_parameters").put("rope_type", "longrope").put("rope_theta", 10000.0);
        assertTrue(refused(c).contains("rope_parameters.rope_type = \"longrope\": not implemented"));
        c = llamaConfig();
        c.remove("rope_parameters");
        c.put("rope_theta", 10000.0).putObject("rope_scaling").put("type", "su");
        assertTrue(refused(c).contains("rope_scaling.type = \"su\": not implemented"));
        c = llamaConfig();
        ((ObjectNode) c.get("rope_parameters")).put("partial_rotary_factor", 0.5);
        assertTrue(refused(c).contains("rope_parameters.partial_rotary_factor = 0.5: not implemented"));
        c = llamaConfig();
        c.putObject("quantization_config").put("quant_method", "gptq").put("bits", 4);
        assertTrue(refused(c).contains("quantization_config = {\"quant_method\":\"gptq\",\"bits\":4}: not implemented"));
        c = llamaConfig();
        c.putObject("per_layer_config").putObject("0").put("head_dim", 32);
        assertTrue(refused(c).contains("per_layer_config = "));
    }

    /** Both rope styles in one file: HF v5 reads rope_scaling, older readers rope_parameters; they must agree. */
    @Test
    void bothRopeStylesMustAgree() throws IOException {
        ObjectNode c = (ObjectNode) JSON.readTree(Fixtures.hf("llama3_bf16_tied").resolve("model/config.json").toFile());
        ObjectNode same = c.get("rope_parameters").deepCopy();
        same.remove("rope_theta");
        same.put("type", same.get("rope_type").asText()).remove("rope_type");
        c.set("rope_scaling", same);
        Families.describe(Path.of("m/config.json"), c, Architecture.LnsMode.AUTO);
        same.put("factor", 8.0 + 1);
        assertTrue(refused(c).contains("disagree (HF reads rope_scaling"));
    }

    /** HF's attribute_map names one count two ways; two different values are refused, either alone is read. */
    @Test
    void aliasedExpertCountsMustAgree() throws IOException {
        ObjectNode c = (ObjectNode) JSON.readTree(Fixtures.hf("mixtral").resolve("model/config.json").toFile());
        c.put("num_experts", 3);
        assertTrue(refused(c).contains("num_local_experts = 4 and num_experts = 3"));
        c.put("num_experts", 4);
        Architecture a = Families.describe(Path.of("m/config.json"), c, Architecture.LnsMode.AUTO);
        assertEquals(4, ((MlpSpec.Moe) a.blocks().get(0).mlp()).experts());
    }

    /** Keys HF's class for the model_type does not have are left unread (HF does not read them either). */
    @Test
    void keysNoClassHasAreAcceptedAndListed() throws IOException {
        ObjectNode c = llamaConfig();
        c.put("hidden_activation", "gelu").put("sliding_window", 4).putArray("layer_types").add("sliding_attention");
        Architecture a = Families.describe(Path.of("m/config.json"), c, Architecture.LnsMode.AUTO);
        assertTrue(a.blocks().stream().allMatch(b -> b.slidingWindow() == 0), "HF's Llama has no sliding windows");
        Family llama = Families.of("llama");
        ConfigReader r = new ConfigReader(Path.of("m/config.json"), c, llama.defaults());
        assertEquals(List.of("hidden_activation", "sliding_window", "layer_types"), llama.configKeys().unread(r));
    }

    /** Qwen: with use_sliding_window false HF drops sliding_window before layer_types is read. */
    @Test
    void qwenLayerTypesNeedUseSlidingWindow() throws IOException {
        ObjectNode c = (ObjectNode) JSON.readTree(Fixtures.hf("qwen3").resolve("model/config.json").toFile());
        c.put("sliding_window", 8);
        ArrayNodeEdit.set(c, "layer_types", "sliding_attention", "full_attention", "sliding_attention", "full_attention");
        assertTrue(refused(c).contains("layer_types asks for sliding attention but sliding_window is null"));
        c.put("use_sliding_window", true);
        Architecture a = Families.describe(Path.of("m/config.json"), c, Architecture.LnsMode.AUTO);
        assertEquals(List.of(8, 0, 8, 0), a.blocks().stream().map(BlockSpec::slidingWindow).toList());
    }

    /** Builds a JSON string array in place. */
    private static final class ArrayNodeEdit {
        static void set(ObjectNode c, String key, String... values) {
            var a = c.putArray(key);
            for (String v : values) a.add(v);
        }
    }
}
