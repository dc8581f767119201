package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.analysis.MetricRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code analyze --probe/--no-probe NAME}: every switch of the metric registry by name, from the command line and a
 * run config; what a switched-off probe leaves in metrics.json and per_block.csv; unknown and contradictory names.
 */
class ProbeSwitchesTest {
    @TempDir
    Path tmp;

    @Test
    void helpListsEverySwitchWithItsDefaultAndCost() {
        Cli.Result r = Cli.run("analyze", "--help");
        assertEquals(0, r.code(), r::describe);
        String section = r.out().substring(r.out().indexOf("Probes you can switch"), r.out().indexOf("Examples:"));
        for (var s : MetricRegistry.SWITCHES) {
            String first = s.help().split(" ")[0];
            assertTrue(section.contains("  " + s.name() + " ") && section.contains((s.onByDefault() ? "[on] " : "[off] ") + first),
                    s.name() + " in\n" + section);
        }
        for (String line : section.split("\\R")) assertTrue(line.length() <= 112, "wider than --help: " + line);
    }

    @Test
    void anUnknownProbeNameIsAUsageErrorListingTheProbes() {
        Path m = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path out = tmp.resolve("out");
        String line = Cli.assertError(BadModels.analyze(m, ids, out, "--probe", "jacobian,lens"), 2, "--probe",
                "names no probe: 'lens'");
        for (String name : MetricRegistry.switchNames()) assertTrue(line.contains(name), line);
        assertFalse(Files.exists(out));
    }

    @Test
    void aProbeSwitchedOnAndOffIsAUsageError() {
        Path m = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path out = tmp.resolve("out");
        Cli.assertError(BadModels.analyze(m, ids, out, "--jacobian", "--no-probe", "jacobian"), 2,
                "probe 'jacobian' is both switched on and off (--jacobian, --no-probe jacobian)");
        Cli.assertError(BadModels.analyze(m, ids, out, "--probe", "token-similarity", "--no-probe", "token-similarity"), 2,
                "probe 'token-similarity' is both switched on and off");
        assertFalse(Files.exists(out));
    }

    @Test
    void switchedOffProbesLeaveNullsAndEmptyColumnsAndARunConfigNamesThemToo() throws Exception {
        Path m = BadModels.llama(tmp, "llama");
        Path ids = BadModels.ids(tmp.resolve("ids.json"), 64);
        Path paper = tmp.resolve("paper");
        Cli.Result r = BadModels.analyze(m, ids, paper, "--no-probe", "logit-lens,jacobian", "--no-probe", "token-similarity");
        assertEquals(0, r.code(), r::describe);
        JsonNode j = new ObjectMapper().readTree(paper.resolve("llama/metrics.json").toFile());
        for (String k : List.of("logit_lens", "jacobian_deviation", "token_similarity", "loss_without_attention")) {
            assertTrue(j.get(k).isNull(), k + " is null when its probe is off");
            assertFalse(j.get("uncertainty").get("ci95").has(k), k + " has no interval");
        }
        assertTrue(j.get("block_influence").isArray());
        String header = Files.readAllLines(paper.resolve("llama/per_block.csv")).get(0);
        assertTrue(header.contains(",token_similarity") && !header.contains("token_similarity_lo"), header);

        // the same switches, the other way round, from a run config (keys are the long options in camelCase)
        Path config = BadModels.write(tmp.resolve("run.json"), "{\"probe\": [\"sublayer-removal\"], \"noProbe\": [\"jacobian\"]}");
        Path more = tmp.resolve("more");
        r = BadModels.analyze(m, ids, more, "--config", config.toString());
        assertEquals(0, r.code(), r::describe);
        j = new ObjectMapper().readTree(more.resolve("llama/metrics.json").toFile());
        assertTrue(j.get("jacobian_deviation").isNull());
        for (String k : List.of("loss_without_attention", "loss_without_mlp", "token_similarity")) {
            assertEquals(4, j.get(k).size() + (k.equals("token_similarity") ? -1 : 0), k);
            assertTrue(j.get("uncertainty").get("ci95").has(k), k + " has its interval");
        }
        assertTrue(j.get("logit_lens").isObject(), "on by default");

        // a metric whose default chart is marked auto is drawn by the report with no code of its own, or not at all
        assertTrue(Files.exists(more.resolve("llama/charts/token_similarity.png")));
        assertTrue(Files.readString(more.resolve("report.html")).contains("token_similarity.png"));
        assertFalse(Files.exists(paper.resolve("llama/charts/token_similarity.png")));
        assertFalse(Files.readString(paper.resolve("report.html")).contains("token_similarity.png"));
    }
}
