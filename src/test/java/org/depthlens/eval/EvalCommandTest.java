package org.depthlens.eval;

import org.depthlens.report.EvalCsv;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.cli.CliRunner;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code depthlens eval} and {@code analyze --tasks/--docs} end to end on the tiny-curse-24 pair (small inputs). */
class EvalCommandTest {
    static final List<String> PROVENANCE = List.of("model_path", "config_sha256", "weights_sha256", "data_path", "data_sha256",
            "windows", "tokens", "tool_version", "date", "norm_type", "norm_source"); // post_num only for Mix-LN forms

    @TempDir
    Path tmp;
    Path tasks;
    Path docs;

    @BeforeEach
    void inputs() throws IOException {
        tasks = tmp.resolve("mini.jsonl");
        Files.writeString(tasks, """
                {"context": "To list the files in a directory, you run the ", "choices": ["ls", "kill", "reboot"], "gold": 0}
                {"context": "If the allocation fails, the function returns", "choices": [" music", " NULL"], "gold": 1}
                """);
        docs = tmp.resolve("mini.txt");
        Files.writeString(docs, "The driver registers an interrupt handler.\n\nEach process has a unique process ID.\n");
    }

    static String pre() {
        return Fixtures.tinyCurse().resolve("pre_ln").toString();
    }

    static String lns() {
        return Fixtures.tinyCurse().resolve("lns").toString();
    }

    @Test
    void evalWritesOneEvalJsonPerModelAndAReport() throws IOException {
        Path out = tmp.resolve("out");
        CliRunner.Result r = CliRunner.run("eval", "-m", pre(), "-l", "pre_ln", "-m", lns(), "-l", "lns", "--tasks", tasks.toString(),
                "--docs", docs.toString(), "--prune", "2", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        for (String label : List.of("pre_ln", "lns")) {
            JsonNode j = new ObjectMapper().readTree(out.resolve(label).resolve("eval.json").toFile());
            assertEquals(24, j.get("blocks").asInt());
            JsonNode t = j.get("tasks").get("mini.jsonl");
            assertEquals(2, t.get("n").asInt());
            assertEquals(3, t.get("loglik").get(0).size());
            assertEquals(2, t.get("loglik").get(1).size());
            assertEquals(24, t.get("removal").size());
            for (int l = 0; l < 24; l++) {
                JsonNode e = t.get("removal").get(l);
                assertEquals(l, e.get("block").asInt());
                assertEquals(e.get("without").get("acc").asDouble() - t.get("acc").asDouble(), e.get("acc").asDouble(), 1e-15);
                assertEquals(e.get("without").get("acc_norm").asDouble() - t.get("acc_norm").asDouble(), e.get("acc_norm").asDouble(), 1e-15);
            }
            assertEquals(2, t.get("pruned").size());
            for (int n = 1; n <= 2; n++) {
                JsonNode p = t.get("pruned").get(n - 1);
                assertEquals(n, p.get("n").asInt());
                assertTrue(p.get("start").asInt() + n <= 24);
                assertTrue(p.has("acc") && p.has("acc_norm"));
            }
            JsonNode d = j.get("perplexity").get("mini.txt");
            assertEquals(2, d.get("documents").asInt());
            assertEquals(13, d.get("words").asInt());
            for (String k : List.of("token_ppl", "word_ppl", "byte_ppl", "bits_per_byte")) assertTrue(d.get(k).asDouble() > 0, k);
            assertEquals(Math.exp(-d.get("loglik").asDouble() / d.get("tokens").asDouble()), d.get("token_ppl").asDouble(), 1e-9);
            assertEquals(24, d.get("removal").size());
            assertEquals(d.get("removal").get(0).get("without").get("token_ppl").asDouble() - d.get("token_ppl").asDouble(),
                    d.get("removal").get(0).get("token_ppl").asDouble(), 1e-9);
            // the pruning of both files is the same blocks
            for (int i = 0; i < 2; i++) assertEquals(t.get("pruned").get(i).get("start"), d.get("pruned").get(i).get("start"));
            assertEquals(PROVENANCE, fieldNames(j.get("provenance")));
            assertEquals(3 + 2 + 2, j.get("provenance").get("windows").asInt(), "3 + 2 choices and one window per document");
            assertTrue(Files.exists(out.resolve(label).resolve(EvalCsv.REMOVAL)));
            assertTrue(Files.exists(out.resolve(label).resolve(EvalCsv.PRUNED)));
            assertEquals(25, Files.readAllLines(out.resolve(label).resolve(EvalCsv.REMOVAL)).size());
        }
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<section id=\"evaluation\">"));
        assertTrue(Files.exists(out.resolve("compare/eval_mini.txt_loss.png")));
        assertTrue(Files.exists(out.resolve("lns/charts/eval_mini.jsonl_acc.svg")));
        try (Stream<Path> s = Files.list(tmp)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith(".out")), "no temporary folder left");
        }

        CliRunner.Result again = CliRunner.run("eval", "-m", pre(), "--docs", docs.toString(), "--out", out.toString());
        assertEquals(3, again.exit(), "an existing output is not replaced without --force");
    }

    @Test
    void removalNoneScoresTheFullModelOnly() throws IOException {
        Path out = tmp.resolve("none");
        CliRunner.Result r = CliRunner.run("eval", "-m", pre(), "--docs", docs.toString(), "--removal", "none", "--max-length", "4",
                "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(out.resolve("pre_ln/eval.json").toFile());
        assertEquals(0, j.get("perplexity").get("mini.txt").get("removal").size());
        assertEquals(4, j.get("settings").get("max_length").asInt());
        assertEquals("none", j.get("settings").get("removal").asText());
        assertFalse(Files.exists(out.resolve("pre_ln").resolve(EvalCsv.REMOVAL)));
        // deterministic: the same run gives the same file but for provenance.date
        Path again = tmp.resolve("none-again");
        assertEquals(0, CliRunner.run("eval", "-m", pre(), "--docs", docs.toString(), "--removal", "none", "--max-length", "4",
                "--out", again.toString()).exit());
        assertEquals(Files.readString(out.resolve("pre_ln/eval.json")).replaceAll("\"date\" ?: \"[^\"]*\"", ""),
                Files.readString(again.resolve("pre_ln/eval.json")).replaceAll("\"date\" ?: \"[^\"]*\"", ""));
    }

    @Test
    void badInputsExitWithThreeAndWriteNothing() throws IOException {
        Path bad = tmp.resolve("bad.jsonl");
        Files.writeString(bad, "{\"context\": \"Q\", \"choices\": [\"a\", \"b\"], \"gold\": 2}\n");
        Path out = tmp.resolve("never");
        CliRunner.Result r = CliRunner.run("eval", "-m", pre(), "--tasks", bad.toString(), "--out", out.toString());
        assertEquals(3, r.exit());
        assertTrue(r.err().contains(bad.toString()) && r.err().contains("line 1"), r.err());
        assertFalse(Files.exists(out));
        assertEquals(3, CliRunner.run("eval", "-m", pre(), "--docs", docs.toString(), "--max-length", "4096", "--out", out.toString()).exit(),
                "longer than max_position_embeddings");
        assertFalse(Files.exists(out));
        assertEquals(2, CliRunner.run("eval", "-m", pre()).exit(), "nothing to evaluate");
        assertEquals(2, CliRunner.run("eval", "--docs", docs.toString()).exit(), "no model");
    }

    @Test
    void analyzeEvaluatesInTheSameRunWithItsOwnPruning() throws IOException {
        Path ids = tmp.resolve("ids.json");
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 64; i++) sb.append(i > 0 ? "," : "").append(100 + (i * 37) % 3000);
        Files.writeString(ids, sb.append("]").toString());
        Path out = tmp.resolve("both");
        CliRunner.Result r = CliRunner.run("analyze", "-m", pre(), "-l", "pre_ln", "--ids", ids.toString(), "--window", "32", "--prune", "2",
                "--tasks", tasks.toString(), "--docs", docs.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode metrics = new ObjectMapper().readTree(out.resolve("pre_ln/metrics.json").toFile());
        JsonNode eval = new ObjectMapper().readTree(out.resolve("pre_ln/eval.json").toFile());
        JsonNode pr = metrics.get("pruned_removal");
        assertEquals(2, pr.size());
        for (String file : List.of("mini.jsonl", "mini.txt")) {
            JsonNode section = file.endsWith(".jsonl") ? eval.get("tasks").get(file) : eval.get("perplexity").get(file);
            for (int i = 0; i < 2; i++) {
                assertEquals(pr.get(i).get("n").asInt(), section.get("pruned").get(i).get("n").asInt());
                assertEquals(pr.get(i).get("start").asInt(), section.get("pruned").get(i).get("start").asInt(), "same blocks as the probe pass chose");
            }
            assertEquals(24, section.get("removal").size());
        }
        assertTrue(eval.get("settings").get("pruning_chosen_on").asText().contains("analyze probe pass"));
        assertEquals(fieldNames(metrics.get("provenance")), fieldNames(eval.get("provenance")));
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<section id=\"evaluation\">") && html.contains("<section id=\"per-model\">"));
        assertTrue(html.indexOf("id=\"evaluation\"") < html.indexOf("<section id=\"files\">"));
    }

    @Test
    void configRunGivesTheSameNumbersAsTheSameOptions() throws IOException {
        // a config in its own folder: every path in it is relative to that folder
        Path cfgDir = Files.createDirectories(tmp.resolve("cfg"));
        String model = cfgDir.relativize(Path.of(pre()).toAbsolutePath()).toString();
        Path cfg = cfgDir.resolve("eval.json");
        Files.writeString(cfg, "{\"model\": [\"" + model + "\"], \"label\": \"pre\", \"tasks\": \"../mini.jsonl\", \"docs\": [\"../mini.txt\"],"
                + " \"removal\": \"single\", \"prune\": 1, \"maxLength\": 64, \"lns\": \"auto\", \"out\": \"from-config\"}");
        CliRunner.Result viaConfig = CliRunner.run("eval", "--config", cfg.toString());
        assertEquals(0, viaConfig.exit(), viaConfig.err());
        Path fromConfig = cfgDir.resolve("from-config");
        assertTrue(Files.isRegularFile(fromConfig.resolve("report.html")), "'out' is relative to the config's folder");

        Path fromOptions = tmp.resolve("from-options");
        CliRunner.Result viaOptions = CliRunner.run("eval", "-m", pre(), "-l", "pre", "--tasks", tasks.toString(), "--docs", docs.toString(),
                "--removal", "single", "--prune", "1", "--max-length", "64", "--lns", "auto", "--out", fromOptions.toString());
        assertEquals(0, viaOptions.exit(), viaOptions.err());
        assertEquals(withoutDate(fromOptions.resolve("pre/eval.json")), withoutDate(fromConfig.resolve("pre/eval.json")));
        assertEquals(24, new ObjectMapper().readTree(fromConfig.resolve("pre/eval.json").toFile()).get("tasks").get("mini.jsonl")
                .get("removal").size());

        // the command line wins over the file
        Path cli = tmp.resolve("cli-wins");
        CliRunner.Result r = CliRunner.run("eval", "--config", cfg.toString(), "--removal", "none", "--prune", "0", "--out", cli.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(cli.resolve("pre/eval.json").toFile());
        assertEquals("none", j.get("settings").get("removal").asText());
        assertEquals(0, j.get("tasks").get("mini.jsonl").get("removal").size());
        assertEquals(0, j.get("tasks").get("mini.jsonl").get("pruned").size());
        assertEquals(64, j.get("settings").get("max_length").asInt(), "what the command line does not give still comes from the file");
    }

    @Test
    void sampleEvalOnlyConfigHoldsOnlyEvalKeys() throws IOException {
        // the sample's own models and task file, with the command line keeping the run small
        Path sample = Path.of(System.getProperty("depthlens.root", ".")).resolve("sample-configs/tiny-curse-eval-only.json");
        Path out = tmp.resolve("sample");
        CliRunner.Result r = CliRunner.run("eval", "--config", sample.toString(), "--docs", docs.toString(), "--removal", "none",
                "--prune", "0", "--max-length", "64", "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        for (String label : List.of("pre_ln", "lns")) {
            JsonNode j = new ObjectMapper().readTree(out.resolve(label).resolve("eval.json").toFile());
            assertEquals(32, j.get("tasks").get("tech-cloze.jsonl").get("n").asInt());
        }
    }

    static String withoutDate(Path evalJson) throws IOException {
        return Files.readString(evalJson).replaceAll("\"date\" ?: \"[^\"]*\"", "");
    }

    static List<String> fieldNames(JsonNode o) {
        List<String> out = new ArrayList<>();
        for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) out.add(it.next());
        return out;
    }
}
