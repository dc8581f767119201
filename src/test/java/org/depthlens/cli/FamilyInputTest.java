package org.depthlens.cli;

import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsWriter;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Bad checkpoints of the families whose blocks differ from Llama's (docs/errors.md): a fused tensor cut short, a
 * layer_types list of the wrong length, a Gemma checkpoint carrying a vision tower, a block form asked of a family
 * whose form is fixed. Each stops trace and analyze with exit 3 and one line naming the file and the tensor, key
 * or option, and leaves nothing behind.
 */
class FamilyInputTest {
    @TempDir
    Path tmp;
    Path ids;

    @BeforeEach
    void setUp() {
        ids = BadModels.ids(tmp.resolve("ids.json"), 64);
    }

    private void failsTraceAndAnalyze(Path model, String... fragments) {
        Path trace = tmp.resolve("trace.safetensors");
        assertError(Cli.run("trace", "--model", model.toString(), "--ids", ids.toString(), "--out", trace.toString()),
                ExitCodes.BAD_INPUT, fragments);
        assertNothingLeft(trace);
        Path out = tmp.resolve("out");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32", "--max-windows", "1",
                "-o", out.toString()), ExitCodes.BAD_INPUT, fragments);
        assertNothingLeft(out);
    }

    /** Rewrites model.safetensors as float32 after {@code edit} changed the tensors and their shapes. */
    private static void rewrite(Path model, BiConsumer<Map<String, float[]>, Map<String, long[]>> edit) {
        Map<String, long[]> shapes = new LinkedHashMap<>(BadModels.shapes(model));
        Map<String, float[]> w = new LinkedHashMap<>(BadModels.weights(model));
        edit.accept(w, shapes);
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        w.forEach((name, data) -> tensors.put(name, SafetensorsWriter.Tensor.of(DType.F32, shapes.get(name), data)));
        SafetensorsWriter.write(model.resolve("model.safetensors"), tensors, Map.of("format", "pt"));
    }

    /** Drops the last row of a [rows, cols] tensor. */
    private static void truncate(Map<String, float[]> w, Map<String, long[]> shapes, String name) {
        long[] s = shapes.get(name);
        float[] v = w.get(name);
        w.put(name, java.util.Arrays.copyOf(v, (int) ((s[0] - 1) * s[1])));
        shapes.put(name, new long[] {s[0] - 1, s[1]});
    }

    /**
     * A fixed-form family whose config counts more blocks than the weights store is said as such, with the blocks
     * held (it was "missing tensor gpt_neox.layers.4..."), as for the families whose form is detected (errors.md).
     */
    @Test
    void moreBlocksInTheConfigThanStored() {
        for (String f : new String[] {"gpt_neox", "olmo2", "phi3"}) {
            Path m = Fixtures.copyModel(f, false, tmp.resolve("more-" + f));
            BadModels.editConfig(m, c -> c.put("num_hidden_layers", 6));
            String prefix = f.equals("gpt_neox") ? "gpt_neox.layers." : "model.layers.";
            failsTraceAndAnalyze(m, m.resolve("config.json") + ": num_hidden_layers is 6 but the weights hold no tensor of block 4 ('"
                    + prefix + "4.*'; they hold blocks 0-3); config.json and the weights disagree");
        }
    }

    @Test
    void truncatedFusedTensor() {
        Path phi3 = Fixtures.copyModel("phi3", false, tmp);
        rewrite(phi3, (w, s) -> truncate(w, s, "model.layers.1.self_attn.qkv_proj.weight"));
        failsTraceAndAnalyze(phi3, "model.safetensors", "model.layers.1.self_attn.qkv_proj.weight", "[191, 64]", "[192, 64]");
        Path neox = Fixtures.copyModel("gpt_neox", false, tmp);
        rewrite(neox, (w, s) -> truncate(w, s, "gpt_neox.layers.0.attention.query_key_value.weight"));
        failsTraceAndAnalyze(neox, "gpt_neox.layers.0.attention.query_key_value.weight", "[191, 64]", "[192, 64]");
    }

    @Test
    void layerTypesOfTheWrongLength() {
        Path gemma = Fixtures.copyModel("gemma2", false, tmp);
        BadModels.editConfig(gemma, c -> c.putArray("layer_types").add("sliding_attention").add("full_attention").add("sliding_attention"));
        failsTraceAndAnalyze(gemma, gemma.resolve("config.json").toString(), "'layer_types' must be a list of 4 strings");
    }

    @Test
    void gemmaCheckpointWithAVisionTower() {
        Path gemma = Fixtures.copyModel("gemma3_text", false, tmp);
        rewrite(gemma, (w, s) -> {
            w.put("model.vision_tower.vision_model.embeddings.patch_embedding.weight", new float[16]);
            s.put("model.vision_tower.vision_model.embeddings.patch_embedding.weight", new long[] {4, 4});
        });
        failsTraceAndAnalyze(gemma, "model.safetensors", "model.vision_tower.vision_model.embeddings.patch_embedding.weight",
                "not part of the gemma3_text model");
    }

    /** OLMo-2's blocks are output-norm by construction; a Curse-of-Depth form cannot be asked of them. */
    @Test
    void normTypeOfAFamilyWithAFixedForm() {
        Path olmo2 = Fixtures.copyModel("olmo2", false, tmp);
        Path trace = tmp.resolve("trace.safetensors");
        assertError(Cli.run("trace", "--model", olmo2.toString(), "--ids", ids.toString(), "--out", trace.toString(),
                "--norm-type", "post"), ExitCodes.BAD_INPUT, olmo2.toString(), "--norm-type post does not apply",
                "olmo2 blocks are Output-norm by construction");
        assertNothingLeft(trace);
        assertError(Cli.run("trace", "--model", olmo2.toString(), "--ids", ids.toString(), "--out", trace.toString(),
                "--lns", "on"), ExitCodes.BAD_INPUT, "--lns on does not apply");
        assertNothingLeft(trace);
    }

    /** Old GPT-NeoX checkpoints carry the causal mask and rotary buffers: accepted, and they change nothing. */
    @Test
    void oldGptNeoxBuffersAreHarmlessExtras() throws Exception {
        Path plain = Fixtures.copyModel("gpt_neox", false, tmp.resolve("a"));
        Path old = Fixtures.copyModel("gpt_neox", false, tmp.resolve("b"));
        rewrite(old, (w, s) -> {
            for (int l = 0; l < 4; l++) {
                String p = "gpt_neox.layers." + l + ".attention.";
                w.put(p + "bias", new float[64 * 64]);
                s.put(p + "bias", new long[] {1, 1, 64, 64});
                w.put(p + "masked_bias", new float[] {-1e9f});
                s.put(p + "masked_bias", new long[0]);
                w.put(p + "rotary_emb.inv_freq", new float[2]);
                s.put(p + "rotary_emb.inv_freq", new long[] {2});
            }
        });
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        assertEquals(0, Cli.run("trace", "--model", plain.toString(), "--ids", ids.toString(), "--out", a.toString()).code());
        Cli.Result r = Cli.run("trace", "--model", old.toString(), "--ids", ids.toString(), "--out", b.toString());
        assertEquals(0, r.code(), r.err());
        try (var fa = org.depthlens.weights.SafetensorsFile.open(a); var fb = org.depthlens.weights.SafetensorsFile.open(b)) {
            for (String t : new String[] {"resid.4", "logits"}) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(Fixtures.readFloats(fa, t), Fixtures.readFloats(fb, t), t);
            }
        }
    }
}
