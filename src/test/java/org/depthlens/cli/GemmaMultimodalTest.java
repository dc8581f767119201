package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A Gemma-3 checkpoint with its vision tower ({@code model_type} gemma3, Gemma3ForConditionalGeneration): the LitGPT
 * gemma3_text fixture wrapped as HF saves it, its config under {@code text_config}, its tensors under
 * {@code model.language_model.} (transformers 4.52 on) or {@code language_model.model.} (the Hub's originals), beside
 * vision-tower and projector tensors. The language model computes exactly what the gemma3_text checkpoint computes
 * (which ForwardParityTest holds to LitGPT's float64 forward); the vision tensors are refused by name unless
 * {@code --skip-vision} is given (docs/errors.md), and {@code prune} carries them into its export unchanged.
 */
class GemmaMultimodalTest {
    @TempDir
    Path tmp;
    Path ids;

    @BeforeEach
    void setUp() {
        ids = BadModels.ids(tmp.resolve("ids.json"), 64);
    }

    /** The gemma3_text fixture as a gemma3 checkpoint: text part under {@code lm} (a prefix replacing "model."), vision under {@code vision}. */
    private Path wrapped(String name, String lm, String vision) throws IOException {
        Path dir = Fixtures.copyModel("gemma3_text", false, tmp.resolve(name));
        ObjectMapper json = new ObjectMapper();
        ObjectNode text = (ObjectNode) json.readTree(dir.resolve("config.json").toFile());
        text.remove("architectures");
        ObjectNode c = json.createObjectNode();
        c.putArray("architectures").add("Gemma3ForConditionalGeneration");
        c.put("model_type", "gemma3");
        c.set("text_config", text);
        ObjectNode v = c.putObject("vision_config");
        v.put("model_type", "siglip_vision_model");
        v.put("hidden_size", 8);
        c.put("mm_tokens_per_image", 4);
        c.put("image_token_index", 383);
        json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("config.json").toFile(), c);
        Map<String, long[]> shapes = BadModels.shapes(dir);
        Map<String, float[]> w = BadModels.weights(dir);
        Map<String, SafetensorsWriter.Tensor> out = new LinkedHashMap<>();
        w.forEach((n, data) -> out.put(n.replaceFirst("^model\\.", lm), SafetensorsWriter.Tensor.of(DType.F32, shapes.get(n), data)));
        out.put(vision + "vision_tower.vision_model.embeddings.patch_embedding.weight", SafetensorsWriter.Tensor.of(DType.F32, new long[] {8, 2}, ramp(16)));
        out.put(vision + "multi_modal_projector.mm_input_projection_weight", SafetensorsWriter.Tensor.of(DType.F32, new long[] {8, 64}, ramp(512)));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), out, Map.of("format", "pt"));
        return dir;
    }

    private Path trace(Path model, String out, String... extra) {
        Path t = tmp.resolve(out);
        String[] all = java.util.Arrays.copyOf(new String[] {"trace", "--model", model.toString(), "--ids", ids.toString(), "--out", t.toString()}, 7 + extra.length);
        System.arraycopy(extra, 0, all, 7, extra.length);
        Cli.Result r = Cli.run(all);
        assertEquals(0, r.code(), r::describe);
        return t;
    }

    private static void assertSameTrace(Path expected, Path actual, int layers) {
        try (SafetensorsFile a = SafetensorsFile.open(expected); SafetensorsFile b = SafetensorsFile.open(actual)) {
            for (int l = 0; l <= layers; l++) {
                assertArrayEquals(Fixtures.readFloats(a, "resid." + l), Fixtures.readFloats(b, "resid." + l), "resid." + l);
            }
            assertArrayEquals(Fixtures.readFloats(a, "logits"), Fixtures.readFloats(b, "logits"), "logits");
        }
    }

    @Test
    void visionTensorsAreRefusedByNameUnlessSkipped() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        Path t = tmp.resolve("refused.safetensors");
        assertError(Cli.run("trace", "--model", g.toString(), "--ids", ids.toString(), "--out", t.toString()), ExitCodes.BAD_INPUT,
                "model.safetensors", "model.multi_modal_projector.mm_input_projection_weight", "vision tower", "--skip-vision");
        assertNothingLeft(t);
        Path out = tmp.resolve("run");
        assertError(Cli.run("analyze", "-m", g.toString(), "--ids", ids.toString(), "--window", "32", "--max-windows", "1",
                "-o", out.toString()), ExitCodes.BAD_INPUT, "--skip-vision");
        assertNothingLeft(out);
    }

    /** Both namings, with --skip-vision, compute bit for bit what the gemma3_text checkpoint computes. */
    @Test
    void languageModelIsTheTextCheckpoint() throws IOException {
        Path text = trace(Fixtures.dir("gemma3_text").resolve("model"), "text.safetensors");
        assertSameTrace(text, trace(wrapped("new", "model.language_model.", "model."), "new.safetensors", "--skip-vision"), 7);
        assertSameTrace(text, trace(wrapped("legacy", "language_model.model.", ""), "legacy.safetensors", "--skip-vision"), 7);
    }

    /** A run config says it as "skipVision": true; inspect names the family and the block form. */
    @Test
    void runConfigAndInspect() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        Cli.Result r = Cli.run("inspect", "--model", g.toString(), "--skip-vision");
        assertEquals(0, r.code(), r::describe);
        assertTrue(r.out().contains("gemma3") && r.out().contains("Sandwich"), r.out());
        Path cfg = tmp.resolve("run.json");
        Files.writeString(cfg, "{\"model\": \"" + g + "\", \"ids\": \"" + ids + "\", \"window\": 32, \"maxWindows\": 1, \"skipVision\": true,"
                + " \"out\": \"" + tmp.resolve("out") + "\"}");
        Cli.Result a = Cli.run("analyze", "--config", cfg.toString());
        assertEquals(0, a.code(), a::describe);
    }

    /** text_config must describe a gemma3_text language model. */
    @Test
    void textConfigOfAnotherModelType() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        BadModels.editConfig(g, c -> ((ObjectNode) c.get("text_config")).put("model_type", "llama"));
        Path t = tmp.resolve("t.safetensors");
        assertError(Cli.run("trace", "--model", g.toString(), "--ids", ids.toString(), "--out", t.toString(), "--skip-vision"),
                ExitCodes.BAD_INPUT, g.resolve("config.json").toString(), "text_config.model_type = \"llama\"", "gemma3_text");
        assertNothingLeft(t);
    }

    private static float[] ramp(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = 0.25f * i - 1;
        return x;
    }

    /** A bad value inside text_config is named with its path: config.json, then text_config.KEY. */
    @Test
    void textConfigErrorsNameTheKeyPath() throws Exception {
        Path g = wrapped("new", "model.language_model.", "model.");
        Object[][] cases = {
                {"num_hidden_layers", 0, "'text_config.num_hidden_layers' must be positive, got 0"},
                {"num_hidden_layers", 9, "text_config.num_hidden_layers is 9 but the weights hold no tensor of block 7"
                        + " ('model.language_model.layers.7.*'; they hold blocks 0-6)"},
                {"num_hidden_layers", 5, "text_config.num_hidden_layers is 5 but the weights hold block 6"},
                {"num_key_value_heads", 3, "text_config.num_key_value_heads 3 does not divide text_config.num_attention_heads 4"},
                {"hidden_activation", "relu", "text_config.hidden_activation = \"relu\": not implemented"},
                {"layer_types", "sliding", "'text_config.layer_types' must be a list of 7 strings"},
                {"rope_theta", -1, "'text_config.rope_theta' must be a positive number, got -1"},
                {"rope_scaling", "{\"rope_type\": \"linear\"}", "in text_config, rope type 'linear' needs a 'factor'"}};
        for (Object[] c : cases) {
            Path m = TorchBinCommandsTest.copy(g, tmp.resolve("bad-" + c[0] + "-" + c[1].hashCode()));
            BadModels.editConfig(m, j -> {
                ObjectNode t = (ObjectNode) j.get("text_config");
                if (c[1] instanceof Integer i) t.put((String) c[0], i);
                else if (((String) c[1]).startsWith("{")) t.set((String) c[0], PruneCommandTest.parse((String) c[1]));
                else t.put((String) c[0], (String) c[1]);
            });
            Path out = tmp.resolve("t-" + m.getFileName() + ".safetensors");
            assertError(Cli.run("trace", "--model", m.toString(), "--ids", ids.toString(), "--out", out.toString(), "--skip-vision"),
                    ExitCodes.BAD_INPUT, m.resolve("config.json") + ": " + c[2]);
            assertNothingLeft(out);
        }
    }

    /**
     * prune of a gemma3 checkpoint with --from-analysis: the analysis (analyze --skip-vision) measured
     * loss_without_layer[l], and the export without block l has exactly that loss.
     */
    @Test
    void prunedExportHasTheAnalysedLoss() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        Path run = tmp.resolve("run");
        Cli.Result a = Cli.run("analyze", "-m", g.toString(), "--ids", ids.toString(), "--window", "16", "--max-windows", "4",
                "--no-logit-lens", "--no-jacobian", "--skip-vision", "-o", run.toString());
        assertEquals(0, a.code(), a::describe);
        JsonNode lwl = PruneCommandTest.json(run.resolve(g.getFileName() + "/metrics.json")).get("loss_without_layer");
        Path out = tmp.resolve("pruned");
        Cli.Result r = Cli.run("prune", "-m", g.toString(), "--from-analysis", run.toString(), "--n", "1", "--rule", "damage", "-o", out.toString());
        assertEquals(0, r.code(), r::describe);
        JsonNode rec = PruneCommandTest.json(out.resolve("depthlens_prune.json"));
        int l = rec.get("dropped_blocks").get(0).asInt();
        assertEquals("the analysis' loss_without_layer[" + l + "]", rec.get("verification").get("reference").asText());
        double exported = rec.get("verification").get("export_loss").asDouble();
        assertEquals(lwl.get(l).asDouble(), exported, 1e-6 * lwl.get(l).asDouble(), "export without block " + l);
        assertTrue(rec.get("vision").asText().startsWith("2 tensors of the vision tower"), rec.toString());
        assertTrue(r.err().contains("2 tensors of the vision tower and its projector copied unchanged"), r.err());
    }

    /**
     * prune --drop 1, both namings: text_config's per-block keys are rewritten (num_hidden_layers, and layer_types since
     * the kept blocks no longer follow sliding_window_pattern's rule), every other key stays, the vision tower and
     * projector are copied byte for byte under their own names, the language model's tensors renumbered byte for byte;
     * the export runs bit for bit like the gemma3_text checkpoint pruned the same way, and depthlens reads it back.
     */
    @Test
    void pruneRewritesTextConfigAndCarriesTheVisionTower() throws IOException {
        Path textOut = tmp.resolve("text-pruned");
        Cli.Result t = Cli.run("prune", "-m", Fixtures.dir("gemma3_text").resolve("model").toString(), "--drop", "1", "--ids", ids.toString(),
                "--window", "16", "-o", textOut.toString());
        assertEquals(0, t.code(), t::describe);
        Path textTrace = trace(textOut, "text-pruned.safetensors");
        for (String[] naming : new String[][] {{"new", "model.language_model.", "model."}, {"legacy", "language_model.model.", ""}}) {
            Path g = wrapped(naming[0], naming[1], naming[2]);
            Path out = tmp.resolve(naming[0] + "-pruned");
            Cli.Result r = Cli.run("prune", "-m", g.toString(), "--drop", "1", "--ids", ids.toString(), "--window", "16", "-o", out.toString());
            assertEquals(0, r.code(), r::describe);
            ObjectNode src = (ObjectNode) PruneCommandTest.json(g.resolve("config.json"));
            ObjectNode exp = (ObjectNode) PruneCommandTest.json(out.resolve("config.json"));
            ObjectNode srcText = (ObjectNode) src.remove("text_config"), expText = (ObjectNode) exp.remove("text_config");
            assertEquals(src, exp, naming[0] + ": every key outside text_config as it was");
            assertEquals(6, expText.get("num_hidden_layers").asInt());
            // original blocks 0, 2..6: block i is global iff (i + 1) % 6 == 0
            assertEquals("[\"sliding_attention\",\"sliding_attention\",\"sliding_attention\",\"sliding_attention\",\"full_attention\","
                    + "\"sliding_attention\"]", expText.get("layer_types").toString());
            for (String k : new String[] {"num_hidden_layers", "layer_types"}) {
                srcText.remove(k);
                expText.remove(k);
            }
            assertEquals(srcText, expText, naming[0] + ": every other key of text_config as it was");
            try (Checkpoint a = Checkpoint.open(g);
                 Checkpoint b = Checkpoint.open(out)) {
                int written = 0;
                for (TensorInfo x : a.tensors().values()) {
                    String to = withoutBlock1(x.name(), naming[1]);
                    if (to == null) continue;
                    TensorInfo y = b.require(to);
                    assertArrayEquals(PruneCommandTest.bytes(a, x), PruneCommandTest.bytes(b, y), naming[0] + ": " + x.name() + " -> " + to);
                    written++;
                }
                assertEquals(written, b.tensors().size(), naming[0] + ": no tensor more");
                assertTrue(b.has(naming[2] + "multi_modal_projector.mm_input_projection_weight"), naming[0]);
            }
            assertSameTrace(textTrace, trace(out, naming[0] + "-pruned.safetensors", "--skip-vision"), 6);
        }
    }

    /** The exported name of a tensor of the source without block 1, the language model under {@code lm}; null: not written. */
    private static String withoutBlock1(String name, String lm) {
        Matcher m = Pattern.compile(Pattern.quote(lm) + "layers\\.(\\d+)\\.(.+)").matcher(name);
        if (!m.matches()) return name;
        int i = Integer.parseInt(m.group(1));
        return i == 1 ? null : lm + "layers." + (i > 1 ? i - 1 : i) + "." + m.group(2);
    }

    /** --skip-vision would say the tower is left out of the export; prune keeps it, so the option is refused. */
    @Test
    void pruneRefusesSkipVision() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        Path out = tmp.resolve("pruned");
        assertError(Cli.run("prune", "-m", g.toString(), "--drop", "1", "--ids", ids.toString(), "--skip-vision", "-o", out.toString()),
                ExitCodes.USAGE, "--skip-vision does not apply to prune", "copied into the export unchanged");
        assertNothingLeft(out);
    }
}
