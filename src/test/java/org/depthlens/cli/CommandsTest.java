package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Observable behaviour of the small commands and of run configs. */
class CommandsTest {
    @TempDir
    Path tmp;

    @Test
    void inspectDescribesTheCheckpoint() throws Exception {
        CliRunner.Result r = CliRunner.run("inspect", "--json", "--model", Fixtures.hf("qwen2_sharded").resolve("model").toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode j = new ObjectMapper().readTree(r.out());
        assertEquals("qwen2", j.get("family").asText());
        assertEquals(5, j.get("blocks").asInt());
        assertEquals(21, j.get("shards").asInt());
        assertTrue(j.get("tied_embeddings").asBoolean());
        CliRunner.Result moe = CliRunner.run("inspect", "--model", Fixtures.hf("deepseek_v3").resolve("model").toString());
        assertEquals(0, moe.exit(), moe.err());
        assertTrue(moe.out().toLowerCase().contains("expert"), moe.out());
    }

    @Test
    void tokenizePrintsIds() throws Exception {
        Path text = tmp.resolve("t.txt");
        Files.writeString(text, "The residual stream grows with depth.");
        CliRunner.Result r = CliRunner.run("tokenize", "--model", Fixtures.tinyCurse().resolve("lns").toString(), "--text", text.toString());
        assertEquals(0, r.exit(), r.err());
        JsonNode ids = new ObjectMapper().readTree(r.out());
        assertTrue(ids.isArray() && ids.size() > 3);
    }

    @Test
    void runConfigDrivesAnalyzeAndCommandLineWins() throws Exception {
        Path ids = tmp.resolve("ids.json");
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < 100; i++) sb.append(i > 0 ? "," : "").append((i * 37) % 256);
        Files.writeString(ids, sb.append("]").toString());
        Path cfg = tmp.resolve("run.json");
        Files.writeString(cfg, "{\"model\": \"" + Fixtures.hf("llama").resolve("model") + "\", \"label\": \"tiny\", \"ids\": \"ids.json\","
                + " \"window\": 16, \"maxWindows\": 2, \"prune\": 1, \"out\": \"from-config\"}");
        Path out = tmp.resolve("from-cli");
        CliRunner.Result r = CliRunner.run("analyze", "--config", cfg.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        assertFalse(Files.exists(tmp.resolve("from-config")), "--out on the command line wins");
        JsonNode m = new ObjectMapper().readTree(out.resolve("tiny/metrics.json").toFile());
        assertEquals(2, m.get("provenance").get("windows").asInt());
        assertEquals(32, m.get("provenance").get("tokens").asInt());
        assertEquals(1, m.get("pruned_removal").size());

        Files.writeString(cfg, "{\"modle\": \"x\"}");
        CliRunner.Result bad = CliRunner.run("analyze", "--config", cfg.toString());
        assertEquals(3, bad.exit());
        assertTrue(bad.err().contains("modle") && bad.err().contains(cfg.toString()), bad.err());
    }

    @Test
    void defaultOutputCopiesTheReportToReports() throws Exception {
        // a temporary depthlens home: analyses/ and reports/ go there
        Path home = Files.createDirectories(tmp.resolve("home"));
        Path docs = tmp.resolve("docs.txt");
        Files.writeString(docs, "The driver registers an interrupt handler.\n\nEach process has a unique process ID.\n");
        Path ids = tmp.resolve("ids.json");
        Files.writeString(ids, "[[1,5,9,13,200,7,3,99],[4,8,15,16,23,42,7,1]]");
        String old = System.getProperty("depthlens.home");
        System.setProperty("depthlens.home", home.toString());
        try {
            CliRunner.Result eval = CliRunner.run("eval", "-m", Fixtures.tinyCurse().resolve("pre_ln").toString(), "--docs", docs.toString(),
                    "--removal", "none", "--max-length", "64");
            assertEquals(0, eval.exit(), eval.err());
            CliRunner.Result analyze = CliRunner.run("analyze", "-m", Fixtures.hf("qwen3").resolve("model").toString(), "-l", "q3",
                    "--ids", ids.toString(), "--prune", "1");
            assertEquals(0, analyze.exit(), analyze.err());
        } finally {
            if (old == null) System.clearProperty("depthlens.home");
            else System.setProperty("depthlens.home", old);
        }
        List<Path> outs;
        try (var s = Files.list(home.resolve("analyses"))) {
            outs = s.sorted().toList();
        }
        assertEquals(2, outs.size(), outs::toString);
        assertTrue(outs.stream().anyMatch(p -> p.getFileName().toString().matches("\\d{8}-\\d{6}-eval-pre_ln")), outs::toString);
        assertTrue(outs.stream().anyMatch(p -> p.getFileName().toString().matches("\\d{8}-\\d{6}-q3")), outs::toString);
        for (Path o : outs) {
            Path copy = home.resolve("reports").resolve(o.getFileName() + ".html");
            assertTrue(Files.isRegularFile(copy), copy + " missing");
            assertEquals(Files.readString(o.resolve("report.html")), Files.readString(copy));
        }
        try (var s = Files.list(home.resolve("reports"))) {
            assertEquals(2, s.count(), "only the two reports, no temporary");
        }

        // with --out, nothing goes to reports/
        System.setProperty("depthlens.home", home.toString());
        try {
            CliRunner.Result r = CliRunner.run("eval", "-m", Fixtures.tinyCurse().resolve("pre_ln").toString(), "--docs", docs.toString(),
                    "--removal", "none", "--max-length", "64", "--out", tmp.resolve("given").toString());
            assertEquals(0, r.exit(), r.err());
        } finally {
            if (old == null) System.clearProperty("depthlens.home");
            else System.setProperty("depthlens.home", old);
        }
        try (var s = Files.list(home.resolve("reports"))) {
            assertEquals(2, s.count());
        }
    }

    /** Every subcommand teaches: --help prints its usage (with its own options) and exits 0, within 112 columns. */
    @Test
    void everyCommandHasHelp() {
        for (String cmd : Main.commandLine().getSubcommands().keySet()) {
            if (cmd.equals("help")) continue;
            var r = CliRunner.run(cmd, "--help");
            assertEquals(0, r.exit(), cmd + " --help: " + r.err());
            assertTrue(r.out().contains("Usage: depthlens " + cmd), cmd + " --help printed: " + r.out());
            for (String line : r.out().split("\n")) assertTrue(line.length() <= 112, cmd + " --help line too wide: " + line);
        }
    }

    @Test
    void usageErrorsExitWithTwo() {
        assertEquals(2, CliRunner.run("analyze", "--lns", "maybe").exit());
        assertEquals(2, CliRunner.run("analyze", "--no-such-option").exit());
        assertEquals(0, CliRunner.run("--help").exit());
        assertTrue(CliRunner.run("analyze", "--help").out().contains("--max-windows"));
    }

    @Test
    void deterministicOutputExceptTheDate() throws Exception {
        Path ids = tmp.resolve("ids.json");
        Files.writeString(ids, "[[1,5,9,13,200,7,3,99],[4,8,15,16,23,42,7,1]]");
        String model = Fixtures.hf("qwen3").resolve("model").toString();
        assertEquals(0, CliRunner.run("analyze", "-m", model, "--ids", ids.toString(), "--out", tmp.resolve("a").toString()).exit());
        assertEquals(0, CliRunner.run("analyze", "-m", model, "--ids", ids.toString(), "--out", tmp.resolve("b").toString()).exit());
        String a = Files.readString(tmp.resolve("a/model/metrics.json")).replaceAll("\"date\" ?: \"[^\"]*\"", "");
        String b = Files.readString(tmp.resolve("b/model/metrics.json")).replaceAll("\"date\" ?: \"[^\"]*\"", "");
        assertEquals(a, b);
        assertEquals(Files.readString(tmp.resolve("a/model/per_block.csv")), Files.readString(tmp.resolve("b/model/per_block.csv")));
    }
}
