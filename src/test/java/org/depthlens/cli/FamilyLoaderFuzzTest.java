package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.ExitCodes;
import org.depthlens.FixtureSet;
import org.depthlens.Fixtures;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsWriter;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Mutation fuzzing of the loaders of the families whose blocks differ (the LitGPT fixtures): each case changes one
 * config.json key (removed, null, zero, negative, huge, fractional, of another JSON type; every key of the file and
 * the family's own ones), or the tensors (one dropped, renamed, one dimension cut or grown, an unknown one added, a
 * fused one cut short), and runs {@code trace}. Every case must either run (exit 0) or stop with exit 3 and one line
 * (docs/errors.md), never an internal error, a stack trace or a hang.
 */
class FamilyLoaderFuzzTest {
    private static final long SEED = 0xFA41L;
    private static final int CONFIG_CASES = 30, TENSOR_CASES = 12;
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Keys the families read beyond the file's own (each case may set one the file leaves out). */
    private static final String[] EXTRA_KEYS = {"layer_types", "sliding_window", "sliding_window_pattern", "partial_rotary_factor",
            "rotary_pct", "rotary_emb_base", "clip_qkv", "attn_logit_softcapping", "final_logit_softcapping", "query_pre_attn_scalar",
            "use_parallel_residual", "head_dim", "rope_scaling", "rope_parameters", "rope_local_base_freq", "layer_norm_eps",
            "attention_bias", "tie_word_embeddings", "hidden_act", "hidden_activation", "num_key_value_heads"};

    @TempDir
    Path tmp;

    static java.util.stream.Stream<String> fixtures() {
        return FixtureSet.litgpt();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void mutatedCheckpointsRunOrAreRefusedInOneLine(String fixture) throws IOException {
        Random rnd = new Random(SEED ^ fixture.hashCode());
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 16);
        List<String> problems = new ArrayList<>();
        int ran = 0, refused = 0;
        for (int i = 0; i < CONFIG_CASES + TENSOR_CASES; i++) {
            Path model = Fixtures.copyModel(fixture, false, tmp.resolve("case" + i));
            String what = i < CONFIG_CASES ? mutateConfig(model, rnd) : mutateTensors(model, rnd);
            Path out = tmp.resolve("t" + i + ".safetensors");
            Cli.Result r = Cli.run("trace", "--model", model.toString(), "--ids", ids.toString(), "--out", out.toString());
            if (r.code() == 0) {
                ran++;
            } else if (r.code() == ExitCodes.BAD_INPUT && r.errorLines().size() == 1 && !Files.exists(out)) {
                refused++;
                try {
                    Cli.assertNoStackTrace(r);
                } catch (AssertionError e) {
                    problems.add(what + ": stack trace");
                }
            } else {
                problems.add(what + ": exit " + r.code() + ": " + r.err().lines().limit(3).toList());
            }
        }
        System.out.printf("%s: %d mutated checkpoints ran, %d refused in one line%n", fixture, ran, refused);
        assertTrue(problems.isEmpty(), fixture + ": " + String.join("\n", problems));
    }

    private static String mutateConfig(Path model, Random rnd) throws IOException {
        Path f = model.resolve("config.json");
        ObjectNode c = (ObjectNode) JSON.readTree(f.toFile());
        List<String> keys = new ArrayList<>();
        c.fieldNames().forEachRemaining(keys::add);
        keys.remove("model_type");
        String key = rnd.nextInt(3) == 0 ? EXTRA_KEYS[rnd.nextInt(EXTRA_KEYS.length)] : keys.get(rnd.nextInt(keys.size()));
        JsonNode value;
        switch (rnd.nextInt(12)) {
            case 0 -> value = null;
            case 1 -> value = JSON.nullNode();
            case 2 -> value = JSON.getNodeFactory().numberNode(0);
            case 3 -> value = JSON.getNodeFactory().numberNode(-1 - rnd.nextInt(4));
            case 4 -> value = JSON.getNodeFactory().numberNode(1 + rnd.nextInt(8));
            case 5 -> value = JSON.getNodeFactory().numberNode(1_000_000_000);
            case 6 -> value = JSON.getNodeFactory().numberNode(rnd.nextDouble() * 3);
            case 7 -> value = JSON.getNodeFactory().textNode(rnd.nextBoolean() ? "x" : "sliding_attention");
            case 8 -> value = JSON.getNodeFactory().booleanNode(rnd.nextBoolean());
            case 9 -> {
                ArrayNode a = JSON.createArrayNode();
                int n = rnd.nextInt(9);
                for (int j = 0; j < n; j++) a.add(rnd.nextBoolean() ? "full_attention" : rnd.nextBoolean() ? "sliding_attention" : "x");
                value = a;
            }
            case 10 -> {
                ObjectNode o = JSON.createObjectNode();
                o.put("rope_type", rnd.nextBoolean() ? "linear" : "longrope");
                if (rnd.nextBoolean()) o.put("factor", rnd.nextInt(3) - 1);
                value = o;
            }
            default -> value = JSON.getNodeFactory().numberNode(c.path(key).isNumber() ? c.get(key).asDouble() * 2 : 7);
        }
        if (value == null) c.remove(key);
        else c.set(key, value);
        JSON.writeValue(f.toFile(), c);
        return "config " + key + " = " + (value == null ? "(removed)" : value);
    }

    private static String mutateTensors(Path model, Random rnd) {
        Map<String, long[]> shapes = new LinkedHashMap<>(BadModels.shapes(model));
        Map<String, float[]> w = new LinkedHashMap<>(BadModels.weights(model));
        List<String> names = new ArrayList<>(w.keySet());
        String name = names.get(rnd.nextInt(names.size()));
        String what;
        switch (rnd.nextInt(5)) {
            case 0 -> {
                w.remove(name);
                shapes.remove(name);
                what = "dropped " + name;
            }
            case 1 -> {
                String to = name.replace(".weight", ".weights");
                if (to.equals(name)) to = name + "_x";
                w.put(to, w.remove(name));
                shapes.put(to, shapes.remove(name));
                what = "renamed " + name;
            }
            case 2 -> {
                long[] s = shapes.get(name).clone();
                int d = rnd.nextInt(s.length);
                long n = 1;
                s[d] = Math.max(1, s[d] + (rnd.nextBoolean() ? 1 : -1));
                for (long x : s) n *= x;
                w.put(name, java.util.Arrays.copyOf(w.get(name), (int) n));
                shapes.put(name, s);
                what = "reshaped " + name + " to " + java.util.Arrays.toString(s);
            }
            case 3 -> {
                String extra = name.replaceAll("\\.[a-z_]+\\.weight$", ".extra_proj.weight");
                if (extra.equals(name)) extra = name + ".extra";
                w.put(extra, new float[4]);
                shapes.put(extra, new long[] {2, 2});
                what = "added " + extra;
            }
            default -> {
                long[] s = shapes.get(name).clone();
                s[0] = Math.max(1, s[0] / 2);
                long n = 1;
                for (long x : s) n *= x;
                w.put(name, java.util.Arrays.copyOf(w.get(name), (int) n));
                shapes.put(name, s);
                what = "halved " + name;
            }
        }
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        w.forEach((n, data) -> tensors.put(n, SafetensorsWriter.Tensor.of(DType.F32, shapes.get(n), data)));
        SafetensorsWriter.write(model.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
        return "tensors: " + what;
    }
}
