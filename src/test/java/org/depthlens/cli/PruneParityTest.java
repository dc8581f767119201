package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.model.SyntheticCheckpoint;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.Families;
import org.depthlens.pass.ProvenanceBuilder;
import org.depthlens.weights.DType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The export is the model without the block, through depthlens and through an independent float64 reader
 * ({@code tools/prune_reference.py}: its own safetensors reader and Llama/Qwen2/Qwen3 forward with HF's rules for
 * sliding windows, whose outputs are committed in {@code src/test/resources/prune/reference.json}).
 *
 * <p>Models: a 32-block Pre-LN Llama (BF16, sharded with an index, as synth writes it), a Qwen2 whose blocks from
 * max_window_layers on use a sliding window, and a Qwen3 with a Gemma-style explicit layer_types pattern. Windows
 * of 32 tokens and windows of 4 keys, so attention types change the loss. Regenerate the reference after a
 * deliberate change: {@code mvn test -Dtest=PruneParityTest -Ddepthlens.prune.reference=/tmp/prune-ref}, then
 * {@code python3 tools/prune_reference.py /tmp/prune-ref > src/test/resources/prune/reference.json}.
 */
class PruneParityTest {
    static final int WINDOW = 32, WINDOWS = 4;
    static final int[] LLAMA_DROPS = {0, 9, 17, 31};
    static Path root;
    static JsonNode analysis;
    static final Map<String, Cli.Result> RUNS = new LinkedHashMap<>();

    @BeforeAll
    static void export(@org.junit.jupiter.api.io.TempDir Path tmp) throws IOException {
        String keep = System.getProperty("depthlens.prune.reference");
        root = keep != null ? Path.of(keep) : tmp;
        if (keep != null) org.depthlens.util.AtomicDir.deleteTree(root);
        Files.createDirectories(root);
        synth("src-llama32", llama32());
        synth("src-qwen2-mwl", qwen("qwen2", 8, Map.of("use_sliding_window", true, "sliding_window", 4, "max_window_layers", 3)));
        synth("src-qwen3-types", qwen("qwen3", 8, Map.of("use_sliding_window", true, "sliding_window", 4, "max_window_layers", 0,
                "layer_types", List.of("sliding_attention", "sliding_attention", "full_attention", "sliding_attention",
                        "sliding_attention", "full_attention", "sliding_attention", "full_attention"))));
        // the windows: list of lists, as analyze and the reader read them
        JsonNode flat = new ObjectMapper().readTree(SyntheticCheckpoint.ids(256, WINDOW * WINDOWS, 7));
        List<List<Integer>> w = new ArrayList<>();
        for (int s = 0; s < WINDOWS; s++) {
            List<Integer> one = new ArrayList<>();
            for (int i = 0; i < WINDOW; i++) one.add(flat.get(s * WINDOW + i).asInt());
            w.add(one);
        }
        Files.writeString(root.resolve("ids.json"), new ObjectMapper().writeValueAsString(w));
        String ids = root.resolve("ids.json").toString();

        Cli.Result a = Cli.run("analyze", "-m", root.resolve("src-llama32").toString(), "--ids", ids, "--no-logit-lens", "--no-jacobian",
                "--prune", "3", "-o", root.resolve("run").toString());
        assertEquals(0, a.code(), a::describe);
        analysis = new ObjectMapper().readTree(root.resolve("run/src-llama32/metrics.json").toFile());
        for (int l : LLAMA_DROPS) {
            prune("llama32-no" + l, "-m", root.resolve("src-llama32").toString(), "--drop", Integer.toString(l), "--ids", ids,
                    "--window", Integer.toString(WINDOW));
        }
        prune("llama32-span3", "-m", root.resolve("src-llama32").toString(), "--from-analysis", root.resolve("run").toString(), "--n", "3");
        prune("qwen2-mwl-no1", "-m", root.resolve("src-qwen2-mwl").toString(), "--drop", "1", "--ids", ids);
        prune("qwen2-mwl-no4-6", "-m", root.resolve("src-qwen2-mwl").toString(), "--drop", "4,6", "--ids", ids);
        prune("qwen3-types-no0-3", "-m", root.resolve("src-qwen3-types").toString(), "--drop", "3,0", "--ids", ids);
        prune("qwen3-types-no5", "-m", root.resolve("src-qwen3-types").toString(), "--drop", "5", "--ids", ids);
    }

    private static void prune(String name, String... args) {
        List<String> all = new ArrayList<>(List.of("prune"));
        all.addAll(List.of(args));
        all.addAll(List.of("-o", root.resolve(name).toString()));
        Cli.Result r = Cli.run(all.toArray(String[]::new));
        assertEquals(0, r.code(), r::describe);
        RUNS.put(name, r);
    }

    private static void synth(String name, Map<String, Object> config) {
        try { // as synth's AtomicDir leaves it: only the marker inside
            Files.createDirectories(root.resolve(name));
            Files.writeString(root.resolve(name).resolve(org.depthlens.util.AtomicDir.MARKER), "test");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        SyntheticCheckpoint.write(new SyntheticCheckpoint.Shape(name, "prune parity", config), null, DType.BF16, 11, root.resolve(name));
    }

    /** 32 blocks, hidden 64, 4/2 heads, weights of std 0.15 so every block moves the loss visibly. */
    static Map<String, Object> llama32() {
        Map<String, Object> c = base("llama", "LlamaForCausalLM", 32);
        return c;
    }

    static Map<String, Object> qwen(String type, int layers, Map<String, Object> extra) {
        Map<String, Object> c = base(type, type.equals("qwen2") ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM", layers);
        if (type.equals("qwen3")) c.put("head_dim", 16);
        c.putAll(new TreeMap<>(extra)); // Map.of iterates in a random order per JVM: config.json must be the same bytes
        return c;
    }

    private static Map<String, Object> base(String type, String arch, int layers) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of(arch));
        c.put("model_type", type);
        c.put("hidden_size", 64);
        c.put("intermediate_size", 128);
        c.put("num_hidden_layers", layers);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("vocab_size", 256);
        c.put("max_position_embeddings", 128);
        c.put("rms_norm_eps", 1e-6);
        c.put("rope_theta", 10000.0);
        c.put("tie_word_embeddings", false);
        c.put("hidden_act", "silu");
        c.put("initializer_range", 0.15);
        c.put("torch_dtype", "bfloat16");
        return c;
    }

    static JsonNode reference() throws IOException {
        return new ObjectMapper().readTree(PruneParityTest.class.getResourceAsStream("/prune/reference.json"));
    }

    /** The folders' weights and config are exactly those the reference was computed on. */
    @Test
    void theReferenceSawTheseVeryFiles() throws IOException {
        JsonNode ref = reference();
        assertEquals(ProvenanceBuilder.sha256(root.resolve("ids.json")), ref.get("ids_sha256").asText(), "ids.json");
        List<String> names = new ArrayList<>();
        try (Stream<Path> s = Files.list(root)) {
            s.filter(p -> Files.isRegularFile(p.resolve("config.json"))).forEach(p -> names.add(p.getFileName().toString()));
        }
        names.sort(null);
        List<String> refNames = new ArrayList<>();
        ref.get("models").fieldNames().forEachRemaining(refNames::add);
        refNames.sort(null);
        assertEquals(refNames, names);
        for (String n : names) assertEquals(hashes(root.resolve(n)), hashesOf(ref.get("models").get(n).get("sha256")), n);
    }

    /** Loss without block l: analyze's loss_without_layer[l] = the export through depthlens = the export through the float64 reader. */
    @Test
    void droppingOneBlockGivesTheLossAnalyzeReported() throws IOException {
        JsonNode ref = reference().get("models");
        double[] without = new double[32];
        for (int l = 0; l < 32; l++) without[l] = analysis.get("loss_without_layer").get(l).asDouble();
        double worst = 0, worstRef = 0;
        for (int l : LLAMA_DROPS) {
            String name = "llama32-no" + l;
            JsonNode rec = record(name);
            double exported = rec.get("verification").get("export_loss").asDouble();
            worst = Math.max(worst, rel(exported, without[l]));
            double reader = ref.get(name).get("loss").asDouble();
            worstRef = Math.max(worstRef, rel(reader, without[l]));
            // the reader's own removal of block l from the source is the export, in float64
            assertEquals(ref.get("src-llama32").get("loss_without_block").get(l).asDouble(), reader, 1e-12 * reader, name);
            assertEquals(List.of(l), ints(rec.get("dropped_blocks")));
        }
        System.out.printf("prune parity: export vs loss_without_layer %.2e, reader vs loss_without_layer %.2e%n", worst, worstRef);
        assertTrue(worst <= 1e-6, "depthlens: " + worst);
        assertTrue(worstRef <= 1e-6, "float64 reader: " + worstRef);
        // the test can fail: dropping another block gives another loss, far beyond the tolerance
        double spread = 0;
        for (int a : LLAMA_DROPS) for (int b : LLAMA_DROPS) spread = Math.max(spread, rel(without[a], without[b]));
        assertTrue(spread > 1e-3, "blocks barely matter: " + spread);
    }

    /** --from-analysis --n 3 (span) removes the span analyze's pruned_removal chose and reproduces its loss. */
    @Test
    void theSpanOfTheAnalysisGivesItsPrunedRemovalLoss() throws IOException {
        JsonNode p = analysis.get("pruned_removal").get(2);
        int start = p.get("start").asInt();
        JsonNode rec = record("llama32-span3");
        assertEquals(List.of(start, start + 1, start + 2), ints(rec.get("dropped_blocks")));
        assertEquals("span", rec.get("rule").get("kind").asText());
        double exported = rec.get("verification").get("export_loss").asDouble();
        assertTrue(rel(exported, p.get("loss").asDouble()) <= 1e-6);
        assertTrue(rec.get("verification").get("reference").asText().contains("pruned_removal n=3"));
        double reader = reference().get("models").get("llama32-span3").get("loss").asDouble();
        assertTrue(rel(reader, p.get("loss").asDouble()) <= 1e-6, "reader " + reader);
    }

    /** Every kept block keeps its attention type, read by HF's rules (the reader) and by depthlens; and the type matters. */
    @Test
    void slidingAndFullAttentionStayOnTheirBlocks() throws IOException {
        JsonNode ref = reference().get("models");
        Map<String, String> sources = new TreeMap<>(Map.of("qwen2-mwl-no1", "src-qwen2-mwl", "qwen2-mwl-no4-6", "src-qwen2-mwl",
                "qwen3-types-no0-3", "src-qwen3-types", "qwen3-types-no5", "src-qwen3-types"));
        for (Map.Entry<String, String> e : sources.entrySet()) {
            JsonNode rec = record(e.getKey());
            List<Integer> kept = ints(rec.get("kept_blocks"));
            List<Integer> srcWindows = ints(ref.get(e.getValue()).get("windows"));
            List<Integer> outWindows = ints(ref.get(e.getKey()).get("windows"));
            List<Integer> want = kept.stream().map(srcWindows::get).toList();
            assertEquals(want, outWindows, e.getKey() + ": HF's rules on the exported config.json");
            Architecture a = Families.read(root.resolve(e.getKey()), Architecture.LnsMode.AUTO);
            assertEquals(want, a.blocks().stream().map(b -> b.slidingWindow()).toList(), e.getKey() + ": depthlens");
            double reader = ref.get(e.getKey()).get("loss").asDouble();
            double exported = rec.get("verification").get("export_loss").asDouble();
            assertTrue(rel(exported, reader) <= 1e-6, e.getKey() + ": depthlens " + exported + " vs reader " + reader);
            // in float64, the export is the source without those blocks...
            int firstDropped = ints(rec.get("dropped_blocks")).get(0);
            if (rec.get("dropped_blocks").size() == 1) {
                assertEquals(ref.get(e.getValue()).get("loss_without_block").get(firstDropped).asDouble(), reader, 1e-12 * reader);
            }
            // ...and the windows matter: with every block on full attention the loss moves far beyond the tolerance
            assertTrue(rel(ref.get(e.getKey()).get("loss_all_full").asDouble(), reader) > 1e-4, e.getKey());
        }
        // max_window_layers stays a threshold: 3 blocks below it, minus the dropped block 1
        JsonNode c = new ObjectMapper().readTree(root.resolve("qwen2-mwl-no1/config.json").toFile());
        assertEquals(2, c.get("max_window_layers").asInt());
        assertEquals(7, c.get("num_hidden_layers").asInt());
        JsonNode t = new ObjectMapper().readTree(root.resolve("qwen3-types-no0-3/config.json").toFile());
        assertEquals(6, t.get("layer_types").size());
    }

    static JsonNode record(String name) throws IOException {
        return new ObjectMapper().readTree(root.resolve(name).resolve("depthlens_prune.json").toFile());
    }

    static double rel(double a, double b) {
        return Math.abs(a - b) / Math.abs(b);
    }

    static List<Integer> ints(JsonNode a) {
        List<Integer> out = new ArrayList<>();
        for (JsonNode x : a) out.add(x.asInt());
        return out;
    }

    /** sha256 of config.json and every safetensors file and index of a folder. */
    static Map<String, String> hashes(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                String n = p.getFileName().toString();
                if (n.equals("config.json") || n.endsWith(".safetensors") || n.endsWith(".index.json")) out.put(n, ProvenanceBuilder.sha256(p));
            }
        }
        return out;
    }

    static Map<String, String> hashesOf(JsonNode o) {
        Map<String, String> out = new TreeMap<>();
        o.fields().forEachRemaining(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }
}
