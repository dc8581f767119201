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
            intervalsHoldTheirEstimates(j, 24, 2);
            csvCarriesTheChangesIntervals(j, out.resolve(label));
            readsBackWithAndWithoutIntervals(out.resolve(label).resolve("eval.json"));
            for (String chart : List.of("eval_mini.jsonl_acc.svg", "eval_mini.txt_token_ppl.svg")) {
                assertTrue(bands(out.resolve(label).resolve("charts").resolve(chart)) >= (chart.contains("acc") ? 2 : 1), chart + " has its bands");
            }
        }
        for (String chart : List.of("eval_mini.jsonl_acc.svg", "eval_mini.txt_loss.svg")) {
            assertTrue(bands(out.resolve("compare").resolve(chart)) >= 2, chart + " has a band per model");
        }
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("<section id=\"evaluation\">"));
        assertTrue(html.contains(">\u0394 lns</th>"), "the full-models table has the paired difference column");
        JsonNode pre = new ObjectMapper().readTree(out.resolve("pre_ln/eval.json").toFile());
        double[] ci = pair(pre.get("perplexity").get("mini.txt").get("uncertainty").get("ci95").get("token_ppl"));
        assertTrue(html.contains(org.depthlens.report.Fmt.num(pre.get("perplexity").get("mini.txt").get("token_ppl").asDouble())
                + " [" + org.depthlens.report.Fmt.num(ci[0]) + ", " + org.depthlens.report.Fmt.num(ci[1]) + "]"), "values carry their intervals");
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
        intervalsHoldTheirEstimates(eval, 24, 2);
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

    /**
     * Every file's uncertainty: the recorded method, resamples and seed, and every interval key present (the full
     * values, the removals' and prunings' changes and values) with lo <= estimate <= hi at every position.
     */
    static void intervalsHoldTheirEstimates(JsonNode eval, int blocks, int prunings) {
        int checked = 0;
        for (String kind : List.of("tasks", "perplexity")) {
            for (Iterator<String> it = eval.get(kind).fieldNames(); it.hasNext(); ) {
                String name = it.next();
                JsonNode f = eval.get(kind).get(name);
                JsonNode u = f.get("uncertainty");
                assertEquals(1000, u.get("resamples").asInt());
                assertEquals(org.depthlens.stats.Bootstrap.SEED, u.get("seed").asLong());
                assertEquals(kind.equals("tasks") ? "item" : "document", u.get("unit").asText());
                assertEquals(kind.equals("tasks") ? f.get("n").asInt() : f.get("documents").asInt(), u.get("units").asInt());
                List<String> metrics = kind.equals("tasks") ? TaskResult.METRICS : DocsResult.METRICS;
                JsonNode ci = u.get("ci95");
                List<String> expected = new ArrayList<>(metrics);
                for (String group : List.of("removal", "pruned")) {
                    for (String m : metrics) expected.add(group + "." + m);
                    for (String m : metrics) expected.add(group + ".without." + m);
                }
                if (kind.equals("perplexity")) expected.add("removal.loss_increase");
                assertEquals(expected, fieldNames(ci), name);
                for (String m : metrics) {
                    checked += holds(name + " " + m, ci.get(m), f.get(m).asDouble());
                    for (String group : List.of("removal", "pruned")) {
                        JsonNode entries = f.get(group);
                        assertEquals(group.equals("removal") ? blocks : prunings, entries.size());
                        assertEquals(entries.size(), ci.get(group + "." + m).size());
                        for (int i = 0; i < entries.size(); i++) {
                            checked += holds(name + " " + group + "." + m + "[" + i + "]", ci.get(group + "." + m).get(i), entries.get(i).get(m).asDouble());
                            checked += holds(name + " " + group + ".without." + m + "[" + i + "]", ci.get(group + ".without." + m).get(i),
                                    entries.get(i).get("without").get(m).asDouble());
                        }
                    }
                }
                if (kind.equals("perplexity")) {
                    for (int l = 0; l < blocks; l++) {
                        double increase = Math.log(f.get("removal").get(l).get("without").get("token_ppl").asDouble())
                                - Math.log(f.get("token_ppl").asDouble());
                        checked += holds(name + " loss_increase[" + l + "]", ci.get("removal.loss_increase").get(l), increase);
                    }
                }
            }
        }
        assertTrue(checked > 0);
    }

    private static int holds(String what, JsonNode pair, double estimate) {
        double[] b = pair(pair);
        assertTrue(b[0] <= estimate && estimate <= b[1], what + ": " + estimate + " outside [" + b[0] + ", " + b[1] + "]");
        return 1;
    }

    private static double[] pair(JsonNode p) {
        assertEquals(2, p.size(), p.toString());
        return new double[] {p.get(0).asDouble(), p.get(1).asDouble()};
    }

    /** eval_removal.csv's and eval_pruned.csv's {@code FILE:METRIC_lo/_hi} columns hold eval.json's intervals of the changes. */
    static void csvCarriesTheChangesIntervals(JsonNode eval, Path dir) throws IOException {
        for (String csv : List.of(EvalCsv.REMOVAL, EvalCsv.PRUNED)) {
            List<String> lines = Files.readAllLines(dir.resolve(csv));
            List<String> head = List.of(lines.get(0).split(","));
            String group = csv.equals(EvalCsv.REMOVAL) ? "removal" : "pruned";
            for (String kind : List.of("tasks", "perplexity")) {
                for (Iterator<String> it = eval.get(kind).fieldNames(); it.hasNext(); ) {
                    String name = it.next();
                    JsonNode ci = eval.get(kind).get(name).get("uncertainty").get("ci95");
                    for (String m : kind.equals("tasks") ? TaskResult.METRICS : DocsResult.METRICS) {
                        int lo = head.indexOf(name + ":" + m + "_lo"), hi = head.indexOf(name + ":" + m + "_hi");
                        assertTrue(lo > head.indexOf(name + ":" + m) && hi == lo + 1, csv + " " + name + ":" + m + " " + head);
                        for (int i = 1; i < lines.size(); i++) {
                            String[] cells = lines.get(i).split(",", -1);
                            double[] b = pair(ci.get(group + "." + m).get(i - 1));
                            assertEquals(b[0], Double.parseDouble(cells[lo]), 0, csv + " row " + i + " " + m + "_lo");
                            assertEquals(b[1], Double.parseDouble(cells[hi]), 0, csv + " row " + i + " " + m + "_hi");
                        }
                    }
                }
            }
        }
    }

    /** eval.json reads back with its intervals, and a file written before intervals (no "uncertainty") still reads. */
    static void readsBackWithAndWithoutIntervals(Path file) throws IOException {
        EvalResult r = org.depthlens.report.EvalJson.read(file);
        JsonNode j = new ObjectMapper().readTree(file.toFile());
        for (FileScores f : r.perplexity()) {
            double[][] b = f.bounds("removal.token_ppl");
            JsonNode ci = j.get("perplexity").get(f.name()).get("uncertainty").get("ci95").get("removal.token_ppl");
            for (int l = 0; l < b[0].length; l++) {
                assertEquals(ci.get(l).get(0).asDouble(), b[0][l], 0);
                assertEquals(ci.get(l).get(1).asDouble(), b[1][l], 0);
            }
            assertEquals(null, f.uncertainty().table(), "no per-unit sums in the file");
        }
        for (FileScores f : r.tasks()) assertEquals(2, f.bounds("acc").length);
        for (String kind : List.of("tasks", "perplexity")) {
            for (JsonNode f : j.get(kind)) ((com.fasterxml.jackson.databind.node.ObjectNode) f).remove("uncertainty");
        }
        Path old = file.resolveSibling("old-eval.json");
        new ObjectMapper().writeValue(old.toFile(), j);
        try {
            EvalResult o = org.depthlens.report.EvalJson.read(old);
            for (FileScores f : o.perplexity()) assertEquals(null, f.uncertainty());
            for (FileScores f : o.tasks()) assertEquals(null, f.bounds("acc"));
            assertEquals(r.perplexity().get(0).full(), o.perplexity().get(0).full());
        } finally {
            Files.delete(old);
        }
    }

    /** Shaded bands in an SVG chart: fills at the band's opacity (alpha 56 of 255). */
    static int bands(Path svg) throws IOException {
        String s = Files.readString(svg);
        int n = 0;
        for (int i = s.indexOf("opacity:0.2196"); i >= 0; i = s.indexOf("opacity:0.2196", i + 1)) n++;
        return n;
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
