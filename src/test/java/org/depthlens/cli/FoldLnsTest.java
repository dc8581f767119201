package org.depthlens.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.analysis.Analyzer;
import org.depthlens.util.Progress;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.probe.Metrics;
import org.depthlens.weights.DType;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** fold-lns writes a plain F32 checkpoint that analyses exactly like the LNS original. */
class FoldLnsTest {
    @TempDir
    Path tmp;

    @Test
    void foldedCopyGivesTheSameMetrics() throws Exception {
        Path lns = Fixtures.tinyCurse().resolve("lns");
        Path folded = tmp.resolve("folded");
        CliRunner.Result r = CliRunner.run("fold-lns", "--model", lns.toString(), "--out", folded.toString());
        assertEquals(0, r.exit(), r.err());
        var config = new ObjectMapper().readTree(folded.resolve("config.json").toFile());
        assertFalse(config.has("layernorm_scaling"), "the factor must not be applied twice");
        assertTrue(Files.exists(folded.resolve("tokenizer.json")));
        try (SafetensorsFile f = SafetensorsFile.open(folded.resolve("model.safetensors"))) {
            assertTrue(f.tensors().values().stream().allMatch(t -> t.dtype() == DType.F32), "stored as F32");
        }
        List<int[]> windows = TinyCurse.windows(4, 64); // the fold is per block: any window length shows it
        Metrics original, copy;
        try (Model m = Model.open(lns, Architecture.LnsMode.AUTO)) {
            assertTrue(m.arch().lns());
            original = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows).metrics();
        }
        try (Model m = Model.open(folded, Architecture.LnsMode.AUTO)) {
            assertFalse(m.arch().lns());
            copy = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows).metrics();
        }
        var json = new ObjectMapper();
        var ref = json.valueToTree(java.util.Map.of(
                "angular_all", original.angularAll(), "angular_last", original.angularLast(),
                "block_influence", original.blockInfluence(), "variance", original.variance(),
                "token_variance", original.tokenVariance(), "rms", original.rms(), "update_ratio", original.updateRatio(),
                "loss", original.loss(), "loss_without_layer", original.lossWithoutLayer()));
        org.depthlens.MetricsAssert.assertMatches((com.fasterxml.jackson.databind.JsonNode) ref, copy, 1e-5, "fold-lns round trip");
    }

    @Test
    void refusesAPreLnModel() {
        CliRunner.Result r = CliRunner.run("fold-lns", "--model", Fixtures.tinyCurse().resolve("pre_ln").toString(),
                "--out", tmp.resolve("x").toString());
        assertEquals(3, r.exit());
        assertTrue(r.err().contains("layernorm_scaling"), r.err());
        assertFalse(Files.exists(tmp.resolve("x")));
    }
}
