package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.Fixtures;
import org.depthlens.LnsCode;
import org.depthlens.model.family.NormType;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code depthlens prune} on every family and checkpoint form the project has fixtures of, and every way it
 * refuses (docs/errors.md): each refusal exits with its code and one line, and leaves nothing at or beside OUT.
 */
class PruneCommandTest {
    static final int USAGE = 2, BAD = 3;
    static final List<String> HF = List.of("llama", "llama3_bf16_tied", "mistral_sliding", "mixtral", "qwen2_sharded", "qwen3",
            "qwen2_moe", "qwen3_moe", "deepseek_v2_lite", "deepseek_v3");

    @TempDir
    Path tmp;
    Path model, ids, out;

    @BeforeEach
    void setUp() {
        model = BadModels.llama(tmp, "llama");
        ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        out = tmp.resolve("out");
    }

    private Cli.Result prune(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "prune";
        System.arraycopy(args, 0, all, 1, args.length);
        return Cli.run(all);
    }

    private Path analyze() {
        Path run = tmp.resolve("run");
        Cli.Result a = Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "16", "--max-windows", "4",
                "--no-logit-lens", "--no-jacobian", "-o", run.toString());
        assertEquals(0, a.code(), a::describe);
        return run;
    }

    static JsonNode parse(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static JsonNode json(Path p) throws IOException {
        return new ObjectMapper().readTree(p.toFile());
    }

    /**
     * Every HF fixture family (dense, sliding, MoE, MLA, BF16 tied, sharded) and every form of the Curse-of-Depth code
     * (.bin, sharded .bin, LNS, post, deeppost, sandwich, Mix-LN): the export re-opens with the loss of the source without
     * those blocks, every tensor is copied bit for bit under its new name in its own dtype, a tied head stays tied.
     */
    @Test
    void everyFamilyAndFormExportsBitForBit() throws IOException {
        for (String f : HF) {
            Path src = Fixtures.hf(f).resolve("model");
            check(f, src, new String[] {"--drop", "1", "--ids", ids.toString(), "--window", "16"});
        }
        // the block forms of released families: GPT-NeoX's gpt_neox.layers.N., Gemma's sliding blocks (dropping block 1
        // shifts Gemma-2's even-block rule, so the export must carry layer_types), fused Phi-3 tensors
        org.depthlens.FixtureSet.litgpt().forEach(f -> {
            try {
                check(f, Fixtures.dir(f).resolve("model"), new String[] {"--drop", "1", "--ids", ids.toString(), "--window", "16"});
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        for (String f : LnsCode.FIXTURES) {
            Path src = Fixtures.lnsCode(f).resolve("model");
            String nt = LnsCode.normType(f);
            // --post-num only with a form that has one: with any other it is a usage error (errors.md)
            List<String> args = new java.util.ArrayList<>(List.of("--drop", "3,1", "--ids", Fixtures.lnsCode(f).resolve("ids.json").toString(),
                    "--norm-type", nt));
            if (NormType.parse(nt).usesPostNum()) args.addAll(List.of("--post-num", Integer.toString(LnsCode.postNum(f))));
            check("lns_code-" + f, src, args.toArray(String[]::new));
        }
    }

    private void check(String name, Path src, String[] args) throws IOException {
        Path o = tmp.resolve("export-" + name);
        String[] all = new String[args.length + 4];
        all[0] = "-m";
        all[1] = src.toString();
        System.arraycopy(args, 0, all, 2, args.length);
        all[all.length - 2] = "-o";
        all[all.length - 1] = o.toString();
        Cli.Result r = prune(all);
        assertEquals(0, r.code(), r::describe);
        JsonNode rec = json(o.resolve("depthlens_prune.json"));
        assertTrue(rec.get("verification").get("relative_difference").asDouble() <= 1e-6, name);
        List<Integer> kept = PruneParityTest.ints(rec.get("kept_blocks"));
        JsonNode srcConfig = json(src.resolve("config.json")), outConfig = json(o.resolve("config.json"));
        assertEquals(kept.size(), outConfig.get("num_hidden_layers").asInt(), name);
        if (!List.of(args).contains("--norm-type")) {
            assertEquals(srcConfig.has("norm_type"), outConfig.has("norm_type"), name + ": a form the files show (or the family fixes) needs no norm_type");
        }
        boolean tied = srcConfig.path("tie_word_embeddings").asBoolean(false);
        assertEquals(tied, outConfig.path("tie_word_embeddings").asBoolean(false), name);
        boolean index = Files.exists(src.resolve(Checkpoint.INDEX)) || Files.exists(src.resolve(Checkpoint.BIN_INDEX));
        assertEquals(index, Files.exists(o.resolve(Checkpoint.INDEX)), name + ": an index like the source's");
        try (Checkpoint a = Checkpoint.open(src); Checkpoint b = Checkpoint.open(o)) {
            assertFalse(b.files().isEmpty());
            assertTrue(b.files().stream().allMatch(x -> x.format().equals("safetensors")), name);
            if (tied) assertFalse(b.has("lm_head.weight"), name + ": HF ties the head, save_pretrained drops the copy");
            int written = 0;
            for (TensorInfo t : a.tensors().values()) {
                String to = renamed(t.name(), kept, srcConfig.get("num_hidden_layers").asInt());
                if (to == null || (tied && t.name().equals("lm_head.weight"))) continue;
                TensorInfo u = b.require(to);
                assertEquals(t.dtype(), u.dtype(), name + " " + t.name());
                assertArrayEquals(t.shape(), u.shape(), name + " " + t.name());
                assertArrayEquals(bytes(a, t), bytes(b, u), name + ": " + t.name() + " -> " + to + " not bit for bit");
                written++;
            }
            assertEquals(written, b.tensors().size(), name + ": no tensor more");
        }
    }

    private static String renamed(String name, List<Integer> kept, int layers) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("((?:model|gpt_neox)\\.layers\\.)(\\d+)\\.(.+)").matcher(name);
        if (!m.matches()) return name;
        int i = Integer.parseInt(m.group(2));
        if (i >= layers) return m.group(1) + (i - (layers - kept.size())) + "." + m.group(3);
        int j = kept.indexOf(i);
        return j < 0 ? null : m.group(1) + j + "." + m.group(3);
    }

    static byte[] bytes(Checkpoint c, TensorInfo t) {
        ByteBuffer b = ByteBuffer.allocate((int) (t.numel() * t.dtype().size()));
        c.files().stream().filter(f -> f.path().equals(t.file())).findFirst().orElseThrow().readBytes(t, 0, t.numel(), b);
        return b.array();
    }

    /** --from-analysis: the rules pick their blocks and the export reproduces the analysis' own numbers. */
    @Test
    void rulesFromAnAnalysis() throws IOException {
        Path run = analyze();
        JsonNode m = json(run.resolve("llama/metrics.json"));
        Cli.Result r = prune("-m", model.toString(), "--from-analysis", run.toString(), "--n", "1", "--rule", "damage", "-o", out.toString());
        assertEquals(0, r.code(), r::describe);
        int best = 0;
        for (int l = 1; l < 4; l++) if (m.get("loss_without_layer").get(l).asDouble() < m.get("loss_without_layer").get(best).asDouble()) best = l;
        JsonNode rec = json(out.resolve("depthlens_prune.json"));
        assertEquals(List.of(best), PruneParityTest.ints(rec.get("dropped_blocks")));
        assertEquals("the analysis' loss_without_layer[" + best + "]", rec.get("verification").get("reference").asText());
        assertTrue(r.err().contains("verify: loss of the export"), r.err());
        Path infl = tmp.resolve("infl");
        r = prune("-m", model.toString(), "--from-analysis", run.resolve("llama/metrics.json").toString(), "--n", "2", "--rule", "influence",
                "-o", infl.toString());
        assertEquals(0, r.code(), r::describe);
        double[] bi = new double[4];
        for (int l = 0; l < 4; l++) bi[l] = m.get("block_influence").get(l).asDouble();
        List<Integer> got = PruneParityTest.ints(json(infl.resolve("depthlens_prune.json")).get("dropped_blocks"));
        for (int l = 0; l < 4; l++) if (!got.contains(l)) for (int g : got) assertTrue(bi[g] <= bi[l], "influence " + got);
        // --force replaces a folder prune wrote
        r = prune("-m", model.toString(), "--from-analysis", run.toString(), "--n", "2", "-o", out.toString(), "--force");
        assertEquals(0, r.code(), r::describe);
        assertEquals("span", json(out.resolve("depthlens_prune.json")).get("rule").get("kind").asText());
    }

    /** --help teaches the numbering, the rules and the path from analyze. */
    @Test
    void helpTeaches() {
        Cli.Result r = Cli.run("prune", "--help");
        assertEquals(0, r.code());
        for (String s : List.of("0-based", "--from-analysis", "span", "damage", "influence", "layernorm_scaling", "depthlens analyze", "--verify")) {
            assertTrue(r.out().contains(s), s);
        }
    }

    // ------------------------------------------------------------------ refusals (docs/errors.md)

    @Test
    void pruneDropOutOfRange() {
        assertError(prune("-m", model.toString(), "--drop", "4", "--ids", ids.toString(), "-o", out.toString()), BAD,
                model.resolve("config.json").toString(), "--drop 4", "blocks 0-3");
        assertNothingLeft(out);
    }

    @Test
    void pruneDropEveryBlock() {
        assertError(prune("-m", model.toString(), "--drop", "0,1,2,3", "--ids", ids.toString(), "-o", out.toString()), BAD,
                model.resolve("config.json").toString(), "removes all 4 blocks");
        assertNothingLeft(out);
    }

    @Test
    void pruneDropTwiceOrNegativeOrBothWays() {
        assertError(prune("-m", model.toString(), "--drop", "1,1", "--ids", ids.toString(), "-o", out.toString()), USAGE, "--drop names block 1 twice");
        assertError(prune("-m", model.toString(), "--drop", "-1", "--ids", ids.toString(), "-o", out.toString()), USAGE, "--drop");
        assertError(prune("-m", model.toString(), "--ids", ids.toString(), "-o", out.toString()), USAGE, "--drop", "--from-analysis");
        assertError(prune("-m", model.toString(), "--drop", "1", "--from-analysis", tmp.toString(), "--n", "1", "-o", out.toString()), USAGE,
                "one of the two");
        assertError(prune("-m", model.toString(), "--from-analysis", tmp.toString(), "--n", "1", "--rule", "best", "-o", out.toString()), USAGE,
                "--rule");
        assertNothingLeft(out);
    }

    @Test
    void pruneVerifyWithoutWindows() {
        assertError(prune("-m", model.toString(), "--drop", "1", "-o", out.toString()), USAGE, "--verify", "--text", "--no-verify");
        assertNothingLeft(out);
        Cli.Result r = prune("-m", model.toString(), "--drop", "1", "--no-verify", "-o", out.toString());
        assertEquals(0, r.code(), r::describe);
        assertTrue(r.out().contains("not verified"), r.out());
    }

    @Test
    void pruneAnalysisOfOtherWeights() {
        Path run = analyze();
        Path other = BadModels.llama(tmp, "other");
        // a re-save with other values and another header (the weights hash covers headers and sizes, docs/design.md)
        Map<String, long[]> shapes = BadModels.shapes(other);
        Map<String, org.depthlens.weights.SafetensorsWriter.Tensor> t = new java.util.LinkedHashMap<>();
        BadModels.weights(other).forEach((n, d) -> t.put(n, org.depthlens.weights.SafetensorsWriter.Tensor.of(org.depthlens.weights.DType.F32,
                shapes.get(n), d)));
        org.depthlens.weights.SafetensorsWriter.write(other.resolve("model.safetensors"), t, Map.of("format", "pt", "resaved", "yes"));
        assertError(prune("-m", other.toString(), "--from-analysis", run.resolve("llama/metrics.json").toString(), "--n", "1", "-o", out.toString()),
                BAD, "metrics.json", "weights_sha256", "not that of");
        assertError(prune("-m", other.toString(), "--from-analysis", run.toString(), "--n", "1", "-o", out.toString()), BAD,
                run.toString(), "none of its 1 analysed models");
        assertNothingLeft(out);
    }

    @Test
    void pruneAnalysisNTooLarge() {
        Path run = analyze();
        assertError(prune("-m", model.toString(), "--from-analysis", run.toString(), "--n", "4", "-o", out.toString()), BAD,
                "metrics.json", "--n 4", "give --n 3 or less");
        assertNothingLeft(out);
    }

    @Test
    void pruneAnalysisDataChanged() throws IOException {
        Path run = analyze();
        Files.writeString(ids, Files.readString(ids).replaceFirst("\\[\\d+", "[1"));
        assertError(prune("-m", model.toString(), "--from-analysis", run.toString(), "--n", "1", "-o", out.toString()), BAD,
                "metrics.json", ids.toString(), "has changed since the analysis", "--no-verify");
        assertNothingLeft(out);
    }

    /** An analysis whose number the export does not reproduce (here: edited) stops the export; nothing is written. */
    @Test
    void pruneVerifyMismatch() throws IOException {
        Path run = analyze();
        Path metrics = run.resolve("llama/metrics.json");
        ObjectNode m = (ObjectNode) json(metrics);
        ArrayNode lwl = (ArrayNode) m.get("loss_without_layer");
        for (int l = 0; l < lwl.size(); l++) lwl.set(l, lwl.get(l).asDouble() * 1.001);
        Files.writeString(metrics, new ObjectMapper().writeValueAsString(m));
        assertError(prune("-m", model.toString(), "--from-analysis", run.toString(), "--n", "1", "-o", out.toString()), BAD,
                out.toString(), "--verify", "differs from the analysis' loss_without_layer", "nothing was written");
        assertNothingLeft(out);
    }

    @Test
    void pruneOutputExistsOrNotPrunes() throws IOException {
        Files.createDirectories(out);
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", out.toString()), BAD, out.toString(),
                "output already exists");
        Files.writeString(out.resolve("notes.txt"), "mine");
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", out.toString(), "--force"), USAGE,
                out.toString(), "not a folder depthlens wrote");
        assertTrue(Files.isRegularFile(out.resolve("notes.txt")));
        assertTrue(Files.isDirectory(out));
    }

    @Test
    void pruneOutputHitsAnInput() {
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", model.toString(), "--force"), USAGE,
                "is the input");
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", model.resolve("sub").toString()), USAGE,
                "lies inside the input");
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", tmp.toString(), "--force"), USAGE,
                "contains the input");
        assertTrue(Files.isRegularFile(model.resolve("config.json")));
    }

    @Test
    void pruneUnknownTensorRefused() {
        Map<String, long[]> shapes = BadModels.shapes(model);
        Map<String, org.depthlens.weights.SafetensorsWriter.Tensor> t = new java.util.LinkedHashMap<>();
        BadModels.weights(model).forEach((n, d) -> t.put(n, org.depthlens.weights.SafetensorsWriter.Tensor.of(org.depthlens.weights.DType.F32,
                shapes.get(n), d)));
        t.put("model.layers.1.mlp.gate_proj.bias", org.depthlens.weights.SafetensorsWriter.Tensor.f32(new long[] {160}, new float[160]));
        org.depthlens.weights.SafetensorsWriter.write(model.resolve("model.safetensors"), t, Map.of("format", "pt"));
        assertError(prune("-m", model.toString(), "--drop", "1", "--ids", ids.toString(), "-o", out.toString()), BAD,
                "model.safetensors", "model.layers.1.mlp.gate_proj.bias", "not part of the llama model");
        assertNothingLeft(out);
    }
}
