package org.depthlens.analysis;

import org.depthlens.util.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.MetricsAssert;
import org.depthlens.TinyCurse;
import org.depthlens.cli.CliRunner;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.report.MetricsJson;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A really trained Pre-LN / LNS pair against the reference computed in float32 from the same BF16 weights:
 * pre_ln through the CLI with every metric, the loss and the whole removal sweep (64 windows of 256 tokens);
 * the step-141 checkpoints with every probe metric and the loss (16 windows). The LNS models get their
 * 1/sqrt(l+1) factor from "layernorm_scaling": true in config.json.
 *
 * <p>Not repeated here (test time): the final lns model's 64-window probe metrics and loss are checked by
 * NormFormMetricsTest on the same weights saved as .bin; its removal sweep, and both models' sweeps, against
 * the independent reference of tools/probe_reference.py by ProbeReferenceTest. The sweep runs one branch per
 * block through the same pass code for every checkpoint, so the early checkpoints' sweeps add nothing.
 */
class TinyCurseMetricsTest {
    @TempDir
    Path tmp;

    /** The check, through the CLI: analyze --ids validation_ids.json --window 256 --max-windows 64. */
    @Test
    void analyzeCommandReproducesReferenceMetrics() throws Exception {
        Path ck = Fixtures.tinyCurse();
        Path out = tmp.resolve("out");
        long t0 = System.nanoTime();
        CliRunner.Result r = CliRunner.run("analyze", "--model", ck.resolve("pre_ln").toString(),
                "--ids", ck.resolve("validation_ids.json").toString(), "--window", "256", "--max-windows", "64", "--prune", "2",
                "--no-logit-lens", "--no-jacobian", // the paper's probes only (ProbeReferenceTest covers the others)
                "--out", out.toString());
        System.out.printf("analyze pre_ln, 64 windows: %.1f s%n", (System.nanoTime() - t0) / 1e9);
        assertEquals(0, r.exit(), r.err());
        for (String label : new String[] {"pre_ln"}) {
            var result = MetricsJson.read(out.resolve(label).resolve("metrics.json"));
            assertEquals(label.equals("lns"), result.lns());
            assertEquals(64, result.provenance().windows());
            assertEquals(64L * 256, result.provenance().tokens());
            MetricsAssert.assertMatches(TinyCurse.reference().get(label), result.metrics(), 1e-4, label + " via analyze");
            // pruning n=1 removes exactly one block: its loss is that block's removal loss
            var p1 = result.prunedRemoval().get(0);
            assertEquals(1, p1.n());
            assertEquals(result.metrics().lossWithoutLayer()[p1.start()], p1.loss(), 1e-9 * p1.loss());
        }
        JsonNode raw = new ObjectMapper().readTree(out.resolve("pre_ln/metrics.json").toFile());
        for (String k : new String[] {"model_path", "config_sha256", "weights_sha256", "data_path", "data_sha256", "windows", "tokens",
                "tool_version", "date"}) {
            assertTrue(raw.get("provenance").has(k), "provenance." + k);
        }
        assertTrue(out.resolve("report.html").toFile().isFile());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"pre_ln-step141, early.pre_ln, 16", "lns-step141, early.lns, 16"})
    void earlyCheckpointsReproduceReferenceMetrics(String dir, String refKey, int windows) {
        JsonNode ref = TinyCurse.reference();
        for (String k : refKey.split("\\.")) ref = ref.get(k);
        ref = ((com.fasterxml.jackson.databind.node.ObjectNode) ref.deepCopy()).without("loss_without_layer");
        try (Model m = Model.open(Fixtures.tinyCurse().resolve(dir), Architecture.LnsMode.AUTO)) {
            assertEquals(dir.startsWith("lns"), m.arch().lns(), "LNS detected from config");
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(false, 0, 2L << 30), Progress.NONE)
                    .run(TinyCurse.windows(windows, 256));
            MetricsAssert.assertMatches(ref, o.metrics(), 1e-4, dir);
        }
    }
}
