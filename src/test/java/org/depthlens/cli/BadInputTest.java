package org.depthlens.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.ExitCodes;
import org.depthlens.Fixtures;
import org.depthlens.weights.DType;
import org.depthlens.weights.Raw;
import org.depthlens.weights.SafetensorsWriter;
import org.depthlens.weights.TorchZip;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.List;

import static org.depthlens.cli.BadModels.entry;
import static org.depthlens.cli.Cli.assertError;
import static org.depthlens.cli.Cli.assertNothingLeft;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The bad-input table of docs/errors.md, one test per row: each bad input is answered with one
 * error line naming the file (and the tensor, key or option), the documented exit code, no stack
 * trace, and no output left behind. Runs the CLI in this JVM ({@link Main#run}).
 */
class BadInputTest {
    static final int BAD = ExitCodes.BAD_INPUT;
    static final int USAGE = ExitCodes.USAGE;

    @TempDir
    Path tmp;
    Path model;
    Path ids;
    Path out;

    @BeforeEach
    void setUp() {
        model = BadModels.llama(tmp, "llama");
        ids = BadModels.ids(tmp.resolve("ids.json"), 200);
        out = tmp.resolve("out");
    }

    /** analyze on {@code m} with the small ids file: one 32-token window, pruning n = 1 only. */
    private Cli.Result analyze(Path m, String... extra) {
        return BadModels.analyze(m, ids, out, extra);
    }

    private String failsAnalyze(Path m, String... fragments) {
        String line = assertError(analyze(m), BAD, fragments);
        assertNothingLeft(out);
        return line;
    }

    private static Path tinyCurse() {
        return Fixtures.tinyCurse().resolve("pre_ln");
    }

    // ---- model folder and config.json ----

    @Test
    void missingModelDir() {
        failsAnalyze(tmp.resolve("no-such-model"), "no-such-model", "model directory not found");
    }

    @Test
    void missingConfigJson() throws Exception {
        Files.delete(model.resolve("config.json"));
        failsAnalyze(model, model.resolve("config.json").toString(), "not found");
    }

    @Test
    void configNotJson() throws Exception {
        Files.writeString(model.resolve("config.json"), "{\"model_type\": \"llama\",\n  \"hidden_size\": 64,,}");
        failsAnalyze(model, "config.json", "not valid JSON", "line 2");
    }

    @Test
    void configNotAnObject() throws Exception {
        Files.writeString(model.resolve("config.json"), "[1, 2]");
        failsAnalyze(model, "config.json", "not a JSON object");
    }

    @Test
    void unknownModelType() {
        BadModels.editConfig(model, c -> c.put("model_type", "gpt2"));
        failsAnalyze(model, "config.json", "model_type 'gpt2'", "supported: llama");
    }

    @Test
    void headsNotDividingHiddenWithoutHeadDim() {
        BadModels.editConfig(model, c -> {
            c.remove("head_dim");
            c.put("num_attention_heads", 5);
            c.put("num_key_value_heads", 5);
        });
        failsAnalyze(model, "config.json", "num_attention_heads 5", "hidden_size 64", "head_dim");
    }

    @Test
    void kvHeadsNotDividingHeads() {
        BadModels.editConfig(model, c -> c.put("num_key_value_heads", 3));
        failsAnalyze(model, "config.json", "num_key_value_heads 3", "num_attention_heads 4");
    }

    @Test
    void configValueOfWrongTypeOrSign() {
        BadModels.editConfig(model, c -> c.put("intermediate_size", -160));
        failsAnalyze(model, "config.json", "'intermediate_size'", "positive");
        BadModels.editConfig(model, c -> c.put("intermediate_size", "160"));
        failsAnalyze(model, "config.json", "'intermediate_size'", "integer");
    }

    @Test
    void configFewerBlocksThanWeights() {
        // formerly accepted: a 2-block model was analysed from a 4-block checkpoint without a word
        BadModels.editConfig(model, c -> c.put("num_hidden_layers", 2));
        failsAnalyze(model, "config.json", "num_hidden_layers is 2", "block 3", "model.layers.3.");
    }

    @Test
    void ropeThetaNotPositive() {
        // formerly accepted: rope_parameters.rope_theta was read with asDouble(), so -5 or "abc" (as 0) went through
        BadModels.editConfig(model, c -> ((ObjectNode) c.get("rope_parameters")).put("rope_theta", -5));
        failsAnalyze(model, "config.json", "'rope_theta'", "positive", "-5");
        BadModels.editConfig(model, c -> ((ObjectNode) c.get("rope_parameters")).put("rope_theta", "abc"));
        failsAnalyze(model, "config.json", "'rope_theta'", "\"abc\"");
        BadModels.editConfig(model, c -> ((ObjectNode) c.get("rope_parameters")).put("rope_theta", 10000.0).put("factor", "two"));
        failsAnalyze(model, "config.json", "'rope_parameters.factor'", "\"two\"");
    }

    // ---- safetensors files ----

    private Path weights() {
        return model.resolve("model.safetensors");
    }

    @Test
    void safetensorsShorterThan8Bytes() {
        BadModels.weightsFile(model, new byte[5]);
        failsAnalyze(model, weights().toString(), "5 bytes", "shorter than the 8-byte header length");
    }

    @Test
    void headerLengthPastEndOfFile() {
        BadModels.weightsFile(model, Raw.file(1000, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]));
        failsAnalyze(model, weights().toString(), "header length 1000", "past the end of the file");
    }

    @Test
    void headerLengthOver100MB() {
        BadModels.weightsFile(model, Raw.file(100_000_001L, "{}".getBytes(StandardCharsets.UTF_8), new byte[0]));
        failsAnalyze(model, weights().toString(), "header length 100000001", "100 MB");
    }

    @Test
    void headerNotAJsonObject() {
        BadModels.weightsFile(model, Raw.file("[1,2,3]", new byte[0]));
        failsAnalyze(model, weights().toString(), "header is not a JSON object");
        BadModels.weightsFile(model, Raw.file("{\"a\": ", new byte[0]));
        failsAnalyze(model, weights().toString(), "header is not valid JSON");
    }

    @Test
    void unknownDtype() {
        BadModels.weightsFile(model, Raw.file("{" + entry("w", "F12", "[1]", 0, 4) + "}", new byte[4]));
        failsAnalyze(model, weights().toString(), "tensor 'w'", "F12");
    }

    @Test
    void dataOffsetsOutOfRange() {
        BadModels.weightsFile(model, Raw.file("{" + entry("w", "F32", "[4]", 0, 16) + "}", new byte[8]));
        failsAnalyze(model, weights().toString(), "tensor 'w'", "data_offsets [0, 16]", "outside the data buffer of 8 bytes");
    }

    @Test
    void dataOffsetsOverlapping() {
        String h = "{" + entry("a", "F32", "[2]", 0, 8) + "," + entry("b", "F32", "[2]", 4, 12) + "}";
        BadModels.weightsFile(model, Raw.file(h, new byte[12]));
        failsAnalyze(model, weights().toString(), "tensor 'b'", "overlap");
    }

    /** An FP8 weight without weight_scale_inv (e.g. another FP8 format's per-tensor scale): refused, not read raw. */
    @Test
    void fp8WeightWithoutBlockScales() {
        String name = "model.layers.0.mlp.down_proj.weight";
        java.util.Map<String, long[]> shapes = BadModels.shapes(model);
        java.util.Map<String, org.depthlens.weights.SafetensorsWriter.Tensor> tensors = new java.util.LinkedHashMap<>();
        BadModels.weights(model).forEach((n, d) -> tensors.put(n, n.equals(name)
                ? org.depthlens.weights.SafetensorsWriter.Tensor.raw(org.depthlens.weights.DType.F8_E4M3, shapes.get(n), new byte[d.length])
                : org.depthlens.weights.SafetensorsWriter.Tensor.of(org.depthlens.weights.DType.F32, shapes.get(n), d)));
        tensors.put(name + "_scale", org.depthlens.weights.SafetensorsWriter.Tensor.f32(new long[] {1}, new float[] {0.5f}));
        org.depthlens.weights.SafetensorsWriter.write(model.resolve("model.safetensors"), tensors, java.util.Map.of("format", "pt"));
        failsAnalyze(model, "model.safetensors", "'" + name + "' is F8_E4M3 without '" + name + "_scale_inv' block scales");
    }

    @Test
    void dataOffsetsWithGap() {
        String h = "{" + entry("a", "F32", "[1]", 0, 4) + "," + entry("b", "F32", "[1]", 8, 12) + "}";
        BadModels.weightsFile(model, Raw.file(h, new byte[12]));
        failsAnalyze(model, weights().toString(), "gap of 4 bytes before tensor 'b'");
    }

    @Test
    void sizeNotMatchingShapeTimesDtype() {
        BadModels.weightsFile(model, Raw.file("{" + entry("w", "F32", "[3]", 0, 8) + "}", new byte[8]));
        failsAnalyze(model, weights().toString(), "tensor 'w'", "holds 8 bytes but shape [3] x F32 needs 12");
    }

    @Test
    void negativeShape() {
        BadModels.weightsFile(model, Raw.file("{" + entry("w", "F32", "[-2,2]", 0, 16) + "}", new byte[16]));
        failsAnalyze(model, weights().toString(), "tensor 'w'", "shape value -2 is negative");
    }

    @Test
    void absurdShape() {
        BadModels.weightsFile(model, Raw.file("{" + entry("w", "F32", "[4294967296,4294967296]", 0, 16) + "}", new byte[16]));
        failsAnalyze(model, weights().toString(), "tensor 'w'", "absurd shape [4294967296, 4294967296]");
    }

    @Test
    void missingTensor() {
        BadModels.rewrite(model, w -> w.remove("model.layers.1.self_attn.k_proj.weight"));
        failsAnalyze(model, model.toString(), "missing tensor 'model.layers.1.self_attn.k_proj.weight'");
    }

    /** model.safetensors with one more tensor {@code name} of {@code shape} (zeros). */
    private void addTensor(String name, long... shape) {
        Map<String, long[]> shapes = BadModels.shapes(model);
        Map<String, float[]> w = BadModels.weights(model);
        Map<String, SafetensorsWriter.Tensor> tensors = new LinkedHashMap<>();
        w.forEach((n, data) -> tensors.put(n, SafetensorsWriter.Tensor.of(DType.F32, shapes.get(n), data)));
        long numel = 1;
        for (long d : shape) numel *= d;
        tensors.put(name, SafetensorsWriter.Tensor.of(DType.F32, shape, new float[(int) numel]));
        SafetensorsWriter.write(weights(), tensors, Map.of("format", "pt"));
    }

    /** A tensor no part of the description reads (here a bias config.json does not announce) is refused, not dropped. */
    @Test
    void unknownTensor() {
        addTensor("model.layers.1.mlp.gate_proj.bias", 160);
        failsAnalyze(model, weights().toString(), "tensor 'model.layers.1.mlp.gate_proj.bias'", "not part of the llama model");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", out.toString()), BAD,
                weights().toString(), "tensor 'model.layers.1.mlp.gate_proj.bias'");
        assertNothingLeft(out);
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, weights().toString(), "model.layers.1.mlp.gate_proj.bias");
    }

    /** Known harmless extras (old Llama checkpoints' rotary buffers) are accepted, and inspect names them. */
    @Test
    void rotaryBufferIsAKnownExtra() {
        addTensor("model.layers.0.self_attn.rotary_emb.inv_freq", 8);
        Cli.Result r = Cli.run("inspect", "-m", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ignored_tensors") && r.out().contains("rotary"), r.out());
    }

    /** With tie_word_embeddings a stored lm_head.weight is ignored, as HF ties the head to the embedding. */
    @Test
    void storedHeadOfATiedModelIsAKnownExtra() {
        BadModels.editConfig(model, c -> c.put("tie_word_embeddings", true));
        Cli.Result r = Cli.run("inspect", "-m", model.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("ignored_tensors") && r.out().contains("tie_word_embeddings"), r.out());
    }

    @Test
    void tensorWithWrongShapeForConfig() {
        BadModels.editConfig(model, c -> c.put("intermediate_size", 128));
        failsAnalyze(model, weights().toString(), "tensor 'model.layers.0.mlp.gate_proj.weight'", "shape [160, 64]",
                "config implies [128, 64]");
    }

    // ---- shards and index.json ----

    private Path sharded() {
        return Fixtures.copyModel("qwen2_sharded", false, tmp);
    }

    private static void mapTensor(Path model, String tensor, String shard) throws Exception {
        Path index = model.resolve("model.safetensors.index.json");
        ObjectNode root = (ObjectNode) BadModels.JSON.readTree(index.toFile());
        ((ObjectNode) root.get("weight_map")).put(tensor, shard);
        Files.writeString(index, BadModels.JSON.writeValueAsString(root));
    }

    @Test
    void duplicateTensorAcrossShards() throws Exception {
        Path m = sharded();
        Files.delete(m.resolve("model.safetensors.index.json"));
        Files.copy(m.resolve("model-00001-of-00021.safetensors"), m.resolve("model-00022-of-00021.safetensors"));
        failsAnalyze(m, m.toString(), "tensor 'model.embed_tokens.weight'", "model-00001-of-00021.safetensors",
                "model-00022-of-00021.safetensors");
    }

    @Test
    void duplicateTensorAcrossShardsNamedByIndex() throws Exception {
        Path m = sharded();
        Files.copy(m.resolve("model-00001-of-00021.safetensors"), m.resolve("extra.safetensors"));
        mapTensor(m, "extra.weight", "extra.safetensors");
        failsAnalyze(m, m.toString(), "tensor 'model.embed_tokens.weight'", "appears in both", "extra.safetensors");
    }

    @Test
    void indexNamesAbsentShard() throws Exception {
        Path m = sharded();
        mapTensor(m, "model.layers.0.mlp.down_proj.weight", "model-00099-of-00021.safetensors");
        failsAnalyze(m, "model.safetensors.index.json", "'model-00099-of-00021.safetensors'", "missing");
    }

    @Test
    void indexShardNameWithDotDot() throws Exception {
        Path m = sharded();
        // a perfectly valid shard outside the model folder: it must not be read
        Files.copy(m.resolve("model-00005-of-00021.safetensors"), tmp.resolve("outside.safetensors"));
        mapTensor(m, "model.layers.0.mlp.down_proj.weight", "../outside.safetensors");
        failsAnalyze(m, "model.safetensors.index.json", "shard name '../outside.safetensors'", "tensor 'model.layers.0.mlp.down_proj.weight'",
                "not a plain file name in the model directory");
    }

    @Test
    void indexShardNameAbsolute() throws Exception {
        Path m = sharded();
        Path outside = tmp.resolve("outside.safetensors");
        Files.copy(m.resolve("model-00005-of-00021.safetensors"), outside);
        mapTensor(m, "model.layers.0.mlp.down_proj.weight", outside.toString());
        failsAnalyze(m, "model.safetensors.index.json", "shard name '" + outside + "'", "not a plain file name in the model directory");
    }

    @Test
    void indexNotJson() throws Exception {
        Path m = sharded();
        Files.writeString(m.resolve("model.safetensors.index.json"), "{\"weight_map\": {");
        failsAnalyze(m, "model.safetensors.index.json", "not valid JSON");
    }

    @Test
    void truncatedShard() throws Exception {
        Path m = sharded();
        Path shard = m.resolve("model-00005-of-00021.safetensors");
        long size = Files.size(shard);
        try (var ch = java.nio.channels.FileChannel.open(shard, StandardOpenOption.WRITE)) {
            ch.truncate(size / 2);
        }
        failsAnalyze(m, shard.toString(), "outside the data buffer", "truncated file?");
    }

    // ---- NaN and infinity in weights ----

    private void poison() {
        BadModels.rewrite(model, w -> {
            w.get("model.layers.2.mlp.down_proj.weight")[17] = Float.NaN;
            w.get("model.layers.3.self_attn.o_proj.weight")[5] = Float.POSITIVE_INFINITY;
        });
    }

    @Test
    void nanInWeightsRefused() {
        poison();
        String line = failsAnalyze(model, weights().toString(), "tensor 'model.layers.2.mlp.down_proj.weight'",
                "1 non-finite value", "NaN at element 17", "--allow-nan");
        assertFalse(line.contains("o_proj"), line);
    }

    @Test
    void infInWeightsRefused() {
        BadModels.rewrite(model, w -> w.get("model.layers.3.self_attn.o_proj.weight")[5] = Float.NEGATIVE_INFINITY);
        failsAnalyze(model, weights().toString(), "tensor 'model.layers.3.self_attn.o_proj.weight'", "-Infinity at element 5",
                "--allow-nan");
    }

    @Test
    void nanInWeightsAllowed() throws Exception {
        poison();
        Cli.Result r = analyze(model, "--allow-nan");
        assertEquals(0, r.code(), r::describe);
        Cli.assertNoStackTrace(r);
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("depthlens: warning:")).toList();
        assertEquals(2, warnings.size(), r::describe); // once per tensor, although the pruning pass loads them again
        assertTrue(warnings.get(0).contains("'model.layers.2.mlp.down_proj.weight'") && warnings.get(0).contains("--allow-nan"), warnings::toString);
        assertTrue(warnings.get(1).contains("'model.layers.3.self_attn.o_proj.weight'"), warnings::toString);
        assertTrue(Files.isRegularFile(out.resolve("llama/metrics.json")));
    }

    /** trace refuses NaN/infinite weights as analyze and eval do, and goes on with --allow-nan. */
    @Test
    void nanInWeightsRefusedByTrace() {
        poison();
        Path traceOut = tmp.resolve("trace.safetensors");
        String line = assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", traceOut.toString()), BAD,
                weights().toString(), "tensor 'model.layers.2.mlp.down_proj.weight'", "NaN at element 17", "--allow-nan");
        assertFalse(line.contains("o_proj"), line);
        assertNothingLeft(traceOut);
        Cli.Result r = Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", traceOut.toString(), "--allow-nan");
        assertEquals(0, r.code(), r::describe);
        List<String> warnings = r.err().lines().filter(l -> l.startsWith("depthlens: warning:")).toList();
        assertEquals(2, warnings.size(), r::describe);
        assertTrue(Files.isRegularFile(traceOut));
    }

    // ---- text and token ids ----

    @Test
    void emptyText() throws Exception {
        Path text = BadModels.write(tmp.resolve("empty.txt"), "  \n");
        Cli.Result r = Cli.run("analyze", "-m", tinyCurse().toString(), "--text", text.toString(), "-o", out.toString());
        assertError(r, BAD, text.toString(), "text is empty");
        assertNothingLeft(out);
    }

    @Test
    void textShorterThanOneWindow() {
        Path text = BadModels.write(tmp.resolve("short.txt"), "Which layers do anything?");
        Cli.Result r = Cli.run("analyze", "-m", tinyCurse().toString(), "--text", text.toString(), "--window", "64", "-o", out.toString());
        assertError(r, BAD, text.toString(), "shorter than one window of 64", "--window");
        assertNothingLeft(out);
    }

    @Test
    void textWithoutTokenizer() {
        Path text = BadModels.write(tmp.resolve("t.txt"), "some text");
        Cli.Result r = Cli.run("analyze", "-m", model.toString(), "--text", text.toString(), "-o", out.toString());
        assertError(r, BAD, model.resolve("tokenizer.json").toString(), "not found");
        assertNothingLeft(out);
    }

    @Test
    void textFileNotFound() {
        Path text = tmp.resolve("nope.txt");
        assertError(Cli.run("analyze", "-m", model.toString(), "--text", text.toString(), "-o", out.toString()), BAD,
                text.toString(), "not found");
        assertNothingLeft(out);
    }

    @Test
    void tokenIdOutsideVocabulary() {
        BadModels.write(ids, "[1, 2, 3, 300, 5, 6, 7, 8]");
        String line = assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "8", "-o", out.toString()),
                BAD, ids.toString(), "token id 300", "position 3", "vocabulary of 256");
        assertNothingLeft(out);
        assertTrue(line.contains("window 0"), line);
        BadModels.write(ids, "[[1, 2, 3], [4, -1, 6]]");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "-o", out.toString()), BAD,
                ids.toString(), "token id -1", "window 1, position 1");
        assertNothingLeft(out);
    }

    @Test
    void idsFileNotJson() {
        BadModels.write(ids, "[1, 2, 3");
        assertError(analyze(model), BAD, ids.toString(), "not valid JSON");
        assertNothingLeft(out);
        BadModels.write(ids, "{\"ids\": [1, 2]}");
        assertError(analyze(model), BAD, ids.toString(), "JSON list of token ids");
    }

    @Test
    void idsNotIntegers() {
        BadModels.write(ids, "[1, 2, 3.5, 4]");
        assertError(analyze(model), BAD, ids.toString(), "item 2", "3.5", "not an integer token id");
        BadModels.write(ids, "[[1, 2], [3, \"x\"]]");
        assertError(analyze(model), BAD, ids.toString(), "sequence 1, item 1", "not an integer token id");
        BadModels.write(ids, "[1, 99999999999]");
        assertError(analyze(model), BAD, ids.toString(), "item 1", "99999999999");
        assertNothingLeft(out);
    }

    @Test
    void idsFileNotFound() {
        Path missing = tmp.resolve("missing-ids.json");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", missing.toString(), "-o", out.toString()), BAD,
                missing.toString(), "not found");
    }

    @Test
    void windowLargerThanContext() {
        BadModels.ids(ids, 300);
        Cli.Result r = Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "200", "-o", out.toString());
        assertError(r, BAD, ids.toString(), "200 tokens", "context of 128", "max_position_embeddings", "--window 128");
        assertNothingLeft(out);
    }

    // ---- output ----

    @Test
    void outputDirectoryNotWritable() throws Exception {
        // tests run as root, so permission bits would not stop a write: put the output under a regular file
        Path file = BadModels.write(tmp.resolve("a-file"), "not a folder");
        Path target = file.resolve("sub/out");
        String line = assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "-o", target.toString()), BAD,
                file.toString(), "cannot create the output folder", "is a file, not a folder");
        assertTrue(line.contains(target.getParent().toString()), line);
        assertEquals("not a folder", Files.readString(file));
        // trace: the same for a file output
        Path traceOut = file.resolve("trace.safetensors");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", traceOut.toString()), BAD,
                file.toString(), "is a file, not a folder");
    }

    @Test
    void outputExists() throws Exception {
        Files.createDirectories(out);
        Files.writeString(out.resolve("keep.txt"), "mine");
        assertError(analyze(model), BAD, out.toString(), "output already exists", "--force");
        assertEquals("mine", Files.readString(out.resolve("keep.txt")));
        Path trace = BadModels.write(tmp.resolve("t.safetensors"), "old");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", trace.toString()), BAD,
                trace.toString(), "output already exists", "--force");
        assertEquals("old", Files.readString(trace));
        Path folded = Files.createDirectories(tmp.resolve("folded"));
        assertError(Cli.run("fold-lns", "-m", model.toString(), "--lns", "on", "-o", folded.toString()), BAD,
                folded.toString(), "output already exists", "--force");
    }

    @Test
    void outputExistsReplacedWithForce() throws Exception {
        assertEquals(0, analyze(model).code()); // --force replaces only an output depthlens wrote (OutputSafetyTest)
        Files.writeString(out.resolve("old.txt"), "old");
        Cli.Result r = analyze(model, "--force");
        assertEquals(0, r.code(), r::describe);
        assertFalse(Files.exists(out.resolve("old.txt")));
        assertTrue(Files.isRegularFile(out.resolve("llama/metrics.json")));
        assertTrue(Files.isRegularFile(out.resolve("report.html")));
        assertNothingLeftBeside(out);
    }

    /** Only {@code target} itself, no temporary sibling. */
    static void assertNothingLeftBeside(Path target) throws Exception {
        try (var s = Files.list(target.getParent())) {
            List<String> tmps = s.map(p -> p.getFileName().toString()).filter(n -> n.contains(".tmp-") || n.endsWith(".partial")).toList();
            assertTrue(tmps.isEmpty(), tmps::toString);
        }
    }

    // ---- options ----

    @Test
    void lnsValueNotAutoOnOff() {
        String line = assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--lns", "maybe"), USAGE,
                "--lns", "maybe", "AUTO, ON, OFF");
        assertTrue(line.contains("analyze --help"), line);
        assertError(Cli.run("inspect", "-m", model.toString(), "--lns", "yes"), USAGE, "--lns", "yes");
    }

    @Test
    void lnsValueInRunConfig() {
        Path config = BadModels.write(tmp.resolve("run.json"), "{\"model\": \"llama\", \"ids\": \"ids.json\", \"lns\": \"maybe\"}");
        assertError(Cli.run("analyze", "--config", config.toString()), BAD, config.toString(), "'lns'", "auto, on or off", "maybe");
    }

    @Test
    void runConfigUnknownKeyOrNotJson() {
        Path config = BadModels.write(tmp.resolve("run.json"), "{\"model\": \"llama\", \"windows\": 3}");
        assertError(Cli.run("analyze", "--config", config.toString()), BAD, config.toString(), "unknown key 'windows'", "maxWindows");
        BadModels.write(config, "{\"model\": ");
        assertError(Cli.run("analyze", "--config", config.toString()), BAD, config.toString(), "not valid JSON");
    }

    @Test
    void unknownOption() {
        assertError(Cli.run("analyze", "--modle", "x"), USAGE, "Unknown option", "--modle", "analyze --help");
        assertError(Cli.run("frobnicate"), USAGE, "frobnicate");
    }

    @Test
    void missingRequiredOption() {
        assertError(Cli.run("inspect"), USAGE, "Missing required option", "--model");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString()), USAGE, "--out");
    }

    @Test
    void invalidOptionValues() {
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "1"), USAGE, "--window", "at least 2");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "abc"), USAGE, "--window", "abc");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--max-windows", "0"), USAGE, "--max-windows");
        assertError(Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--text", ids.toString()), USAGE, "--text", "--ids");
        assertError(Cli.run("analyze", "-m", model.toString()), USAGE, "--text FILE or --ids FILE");
    }

    @Test
    void debugPrintsTheStackTrace() {
        Cli.Result r = Cli.run("inspect", "-m", tmp.resolve("nope").toString(), "--debug");
        assertEquals(BAD, r.code(), r::describe);
        assertTrue(r.err().lines().anyMatch(l -> l.startsWith("depthlens: error:") && l.contains("nope")), r::describe);
        assertTrue(r.err().contains("\tat org.depthlens."), r::describe);
    }

    // ---- eval: task and documents files, options, run config ----

    /** eval on the tiny-curse Pre-LN model (it has a tokenizer) with {@code args}, full model only, 64-token inputs unless args say. */
    private Cli.Result eval(String... args) {
        List<String> a = new ArrayList<>(List.of("eval", "-m", tinyCurse().toString(), "-o", out.toString()));
        if (!List.of(args).contains("--removal")) a.addAll(List.of("--removal", "none"));
        if (!List.of(args).contains("--max-length")) a.addAll(List.of("--max-length", "64"));
        a.addAll(List.of(args));
        return Cli.run(a.toArray(String[]::new));
    }

    private String failsEval(int code, List<String> args, String... fragments) {
        String line = assertError(eval(args.toArray(String[]::new)), code, fragments);
        assertNothingLeft(out);
        return line;
    }

    private static final String ITEM = "{\"context\": \"The driver \", \"choices\": [\"registers\", \"sings\"], \"gold\": 0}";

    @Test
    void evalTasksLineNotJson() {
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), ITEM + "\n{\"context\": \"x\", choices}\n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "line 2", "not valid JSON");
    }

    @Test
    void evalTaskItemMissingChoicesOrGold() {
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), ITEM + "\n\n{\"context\": \"x\", \"gold\": 0}\n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "line 3", "\"choices\"", "the key is missing");
        BadModels.write(tasks, "{\"context\": \"x\", \"choices\": [\"a\", \"b\"]}\n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "line 1", "\"gold\"", "the key is missing");
    }

    @Test
    void evalTaskGoldOutOfRange() {
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), ITEM + "\n{\"context\": \"x\", \"choices\": [\"a\", \"b\"], \"gold\": 2}\n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "line 2", "\"gold\"", "(0..1)", "got 2");
        BadModels.write(tasks, "{\"context\": \"x\", \"choices\": [\"a\", \"b\"], \"gold\": \"1\"}\n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "line 1", "\"gold\"", "got \"1\"");
    }

    @Test
    void evalTasksOrDocsFileEmpty() {
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), "\n  \n");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "no items", "empty");
        Path docs = BadModels.write(tmp.resolve("docs.txt"), "");
        failsEval(BAD, List.of("--docs", docs.toString()), docs.toString(), "no documents", "empty");
    }

    @Test
    void evalDocsJsonlLineNotJsonOrWithoutText() {
        Path docs = BadModels.write(tmp.resolve("docs.jsonl"), "{\"text\": \"one document\"}\n{\"text\": \n");
        failsEval(BAD, List.of("--docs", docs.toString()), docs.toString(), "line 2", "not valid JSON");
        BadModels.write(docs, "{\"text\": \"one document\"}\n{\"body\": \"another\"}\n");
        failsEval(BAD, List.of("--docs", docs.toString()), docs.toString(), "line 2", "\"text\"");
    }

    @Test
    void evalDocsOrTasksFileNotFound() {
        Path docs = tmp.resolve("no-docs.txt");
        failsEval(BAD, List.of("--docs", docs.toString()), docs.toString(), "documents file not found");
        Path tasks = tmp.resolve("no-tasks.jsonl");
        failsEval(BAD, List.of("--tasks", tasks.toString()), tasks.toString(), "task file not found");
    }

    @Test
    void evalMaxLengthTooSmall() {
        Path tasks = BadModels.write(tmp.resolve("tasks.jsonl"), ITEM + "\n{\"context\": \"x\", \"choices\": [\"a\", \"interrupt handler\"], \"gold\": 1}\n");
        String line = failsEval(USAGE, List.of("--tasks", tasks.toString(), "--max-length", "0"), "--max-length", "must be positive", "got 0");
        assertTrue(line.contains("eval --help"), line);
        failsEval(BAD, List.of("--tasks", tasks.toString(), "--max-length", "2"), tasks.toString(), "line 2, choice 1", "tokens",
                "longer than --max-length 2");
    }

    @Test
    void evalMaxLengthOverContext() {
        Path docs = BadModels.write(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.");
        failsEval(BAD, List.of("--docs", docs.toString(), "--max-length", "4096"), tinyCurse().resolve("config.json").toString(),
                "--max-length 4096", "context of 256", "max_position_embeddings");
    }

    @Test
    void evalRemovalValueUnknown() {
        Path docs = BadModels.write(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.");
        String line = failsEval(USAGE, List.of("--docs", docs.toString(), "--removal", "all"), "--removal", "all", "none, single");
        assertTrue(line.contains("eval --help"), line);
    }

    @Test
    void evalPruneMoreThanBlocks() {
        Path docs = BadModels.write(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.");
        failsEval(BAD, List.of("--docs", docs.toString(), "--prune", "25"), tinyCurse().resolve("config.json").toString(),
                "--prune 25", "24 blocks", "num_hidden_layers");
        failsEval(USAGE, List.of("--docs", docs.toString(), "--prune", "-1"), "--prune", "must not be negative");
    }

    /** analyze: a --prune K you give must fit the model (the default 4 is quietly cut for small models). */
    @Test
    void analyzePruneMoreThanBlocks() {
        // the llama fixture has 4 blocks
        Cli.Result r = Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32", "--max-windows", "1",
                "--prune", "5", "-o", out.toString());
        assertError(r, BAD, model.resolve("config.json").toString(), "--prune 5 is more than the model's 4 blocks", "num_hidden_layers");
        assertNothingLeft(out);
        assertEquals(0, Cli.run("analyze", "-m", model.toString(), "--ids", ids.toString(), "--window", "32", "--max-windows", "1",
                "--prune", "4", "-o", out.toString()).code());
    }

    @Test
    void evalRunConfigUnknownKeyOrBadValue() {
        BadModels.write(tmp.resolve("docs.txt"), "The driver registers an interrupt handler.");
        Path config = BadModels.write(tmp.resolve("eval.json"), "{\"model\": \"" + tinyCurse() + "\", \"docs\": \"docs.txt\", \"window\": 64}");
        assertError(Cli.run("eval", "--config", config.toString(), "-o", out.toString()), BAD, config.toString(),
                "unknown key 'window'", "maxLength", "removal");
        assertNothingLeft(out);
        BadModels.write(config, "{\"model\": \"" + tinyCurse() + "\", \"docs\": \"docs.txt\", \"removal\": \"all\"}");
        assertError(Cli.run("eval", "--config", config.toString(), "-o", out.toString()), BAD, config.toString(),
                "'removal'", "none or single", "all");
        assertNothingLeft(out);
        BadModels.write(config, "{\"docs\": \"docs.txt\"}");
        assertError(Cli.run("eval", "--config", config.toString(), "-o", out.toString()), USAGE, "Missing required option", "--model");
    }

    @Test
    void traceSequencesOfDifferentLengths() {
        BadModels.write(ids, "[[1, 2, 3], [4, 5]]");
        Path t = tmp.resolve("t.safetensors");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", t.toString()), BAD,
                ids.toString(), "different lengths");
        assertNothingLeft(t);
    }

    // ---- PyTorch .bin ----

    /** The model with {@code resource} (src/test/resources/torchbin, made by torch) as its pytorch_model.bin instead of safetensors. */
    private Path binModel(String resource) throws Exception {
        Files.delete(weights());
        return TorchZip.copyResource(resource, model.resolve("pytorch_model.bin"));
    }

    /** The hostile pickle would create {@code /tmp/depthlens-pickle-was-executed}; every command refuses it unrun. */
    @Test
    void pytorchPickleCallingOsSystem() throws Exception {
        Path marker = Path.of("/tmp/depthlens-pickle-was-executed");
        Files.deleteIfExists(marker);
        Path bin = binModel("os_system.bin");
        failsAnalyze(model, bin.toString(), "'posix.system'", "data.pkl", "refused");
        assertError(Cli.run("inspect", "-m", model.toString()), BAD, bin.toString(), "'posix.system'");
        Path t = tmp.resolve("t.safetensors");
        assertError(Cli.run("trace", "-m", model.toString(), "--ids", ids.toString(), "-o", t.toString()), BAD, bin.toString(), "'posix.system'");
        assertNothingLeft(t);
        assertError(Cli.run("fold-lns", "-m", model.toString(), "--lns", "on", "-o", out.toString()), BAD, bin.toString(), "'posix.system'");
        assertNothingLeft(out);
        assertFalse(Files.exists(marker), "the pickle ran");
    }

    @Test
    void pytorchPickleCallingEval() throws Exception {
        Path bin = binModel("builtins_eval.bin");
        failsAnalyze(model, bin.toString(), "'__builtin__.eval'", "refused");
        assertFalse(Files.exists(Path.of("/tmp/depthlens-pickle-was-executed")), "the pickle ran");
    }

    @Test
    void pytorchLegacyFormat() throws Exception {
        Path bin = binModel("legacy.bin");
        failsAnalyze(model, bin.toString(), "legacy torch.save format", "torch < 1.6");
    }

    @Test
    void pytorchNotAZipArchive() throws Exception {
        Files.delete(weights());
        Path bin = BadModels.write(model.resolve("pytorch_model.bin"), "<!DOCTYPE html><html>");
        failsAnalyze(model, bin.toString(), "not a torch.save zip archive", "0x3c21444f");
        BadModels.write(bin, "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 1284590\n");
        failsAnalyze(model, bin.toString(), "a Git LFS pointer, not the weights");
    }

    @Test
    void pytorchTrainingCheckpointNotAStateDict() throws Exception {
        Path bin = binModel("nested.bin");
        failsAnalyze(model, bin.toString(), "entry 'model' is a dict", "not a tensor");
    }

    @Test
    void pytorchTruncated() throws Exception {
        Path bin = binModel("views.bin");
        byte[] b = Files.readAllBytes(bin);
        Files.write(bin, java.util.Arrays.copyOf(b, b.length / 2));
        failsAnalyze(model, bin.toString(), "no zip end record", "truncated");
    }

    @Test
    void pytorchCompressedEntry() throws Exception {
        Path bin = binModel("views.bin");
        java.util.Map<String, byte[]> entries = TorchZip.read(bin);
        try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(bin))) {
            for (var e : entries.entrySet()) {
                z.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        failsAnalyze(model, bin.toString(), "zip entry 'views/data.pkl' is compressed", "re-save");
    }

    @Test
    void pytorchStorageShorterThanItsTensors() throws Exception {
        Path bin = binModel("views.bin");
        java.util.LinkedHashMap<String, byte[]> entries = TorchZip.read(bin);
        entries.put("views/data/0", java.util.Arrays.copyOf(entries.get("views/data/0"), 100));
        TorchZip.write(bin, TorchZip.entries(entries), false);
        failsAnalyze(model, bin.toString(), "tensor 'emb'", "storage 'views/data/0' holds 100 bytes but 32 x F32 needs 128");
    }

    @Test
    void pytorchIndexNamesAbsentShard() throws Exception {
        Files.delete(weights());
        Path index = BadModels.write(model.resolve("pytorch_model.bin.index.json"),
                "{\"weight_map\": {\"model.embed_tokens.weight\": \"pytorch_model-00002-of-00002.bin\"}}");
        failsAnalyze(model, index.toString(), "names shard 'pytorch_model-00002-of-00002.bin', which is missing");
    }

    @Test
    void noWeightsAtAll() throws Exception {
        Files.delete(weights());
        failsAnalyze(model, model.toString(), "no *.safetensors or pytorch_model.bin weights");
        TorchZip.copyResource("views.bin", model.resolve("pytorch_model-00001-of-00002.bin"));
        failsAnalyze(model, model.toString(), "pytorch_model-*.bin shards without pytorch_model.bin.index.json");
    }
}
