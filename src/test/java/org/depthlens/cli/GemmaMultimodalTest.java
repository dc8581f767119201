package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.depthlens.weights.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A Gemma-3 checkpoint with its vision tower ({@code model_type} gemma3, Gemma3ForConditionalGeneration): the LitGPT
 * gemma3_text fixture wrapped as HF saves it, its config under {@code text_config}, its tensors under
 * {@code model.language_model.} (transformers 4.52 on) or {@code language_model.model.} (the Hub's originals), beside
 * vision-tower and projector tensors. The language model computes exactly what the gemma3_text checkpoint computes
 * (which ForwardParityTest holds to LitGPT's float64 forward); the vision tensors are refused by name unless
 * {@code --skip-vision} is given (docs/errors.md).
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
        out.put(vision + "vision_tower.vision_model.embeddings.patch_embedding.weight", SafetensorsWriter.Tensor.of(DType.F32, new long[] {8, 2}, new float[16]));
        out.put(vision + "multi_modal_projector.mm_input_projection_weight", SafetensorsWriter.Tensor.of(DType.F32, new long[] {8, 64}, new float[512]));
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
        org.junit.jupiter.api.Assertions.assertTrue(r.out().contains("gemma3") && r.out().contains("Sandwich"), r.out());
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

    /** prune cannot carry text_config's per-block keys and the vision tower over, so it refuses before any work. */
    @Test
    void pruneRefusesAMultimodalCheckpoint() throws IOException {
        Path g = wrapped("new", "model.language_model.", "model.");
        Path out = tmp.resolve("pruned");
        assertError(Cli.run("prune", "-m", g.toString(), "--drop", "1", "--ids", ids.toString(), "-o", out.toString()), ExitCodes.BAD_INPUT,
                "config.json", "text_config", "prune exports only");
        assertNothingLeft(out);
    }
}
