package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.LnsCode;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * eval and fold-lns on checkpoints of the Curse-of-Depth code: the trained tiny-curse-24 LNS model as that code
 * saves it (bf16 .bin, nothing says LNS) with --norm-type LNS evaluates exactly like its safetensors twin whose
 * config says LNS (that twin is checked against the reference by TinyCurseMetricsTest), and folds into a
 * Pre-LN checkpoint with the same forward; fold-lns refuses forms without LNS factors.
 */
class NormFormEvalFoldTest {
    @TempDir
    Path tmp;

    @Test
    void evalOfTheBinWithNormTypeLnsMatchesItsSafetensorsTwin() throws Exception {
        String text = Files.readString(Fixtures.tinyCurse().resolve("validation.txt"));
        Path docs = Files.writeString(tmp.resolve("docs.txt"), text.substring(0, 1200).strip() + "\n");
        Path out = tmp.resolve("eval");
        CliRunner.Result r = CliRunner.run("eval", "-m", Fixtures.tinyCurseLnsCode().toString(), "-l", "bin",
                "-m", Fixtures.tinyCurse().resolve("lns").toString(), "-l", "safetensors", "--norm-type", "LNS", "--norm-type", "auto",
                "--docs", docs.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        ObjectMapper om = new ObjectMapper();
        JsonNode bin = om.readTree(out.resolve("bin/eval.json").toFile()), st = om.readTree(out.resolve("safetensors/eval.json").toFile());
        assertEquals("LNS", bin.get("provenance").get("norm_type").asText());
        assertEquals("--norm-type", bin.get("provenance").get("norm_source").asText());
        assertEquals("config.json layernorm_scaling", st.get("provenance").get("norm_source").asText());
        assertTrue(bin.get("lns").asBoolean());
        int[] compared = {0};
        sameNumbers(st.get("perplexity"), bin.get("perplexity"), "perplexity", compared);
        assertTrue(compared[0] > 24, "the removal entries were compared too: " + compared[0]);
        String html = Files.readString(out.resolve("report.html"));
        assertTrue(html.contains("Block normalisation") && html.contains(">LNS<"), "the report labels each model with its form");
    }

    /** Every numeric leaf within 1e-6 relative (same bf16 weights, two file formats). */
    private static void sameNumbers(JsonNode want, JsonNode got, String path, int[] count) {
        if (want.isNumber()) {
            double w = want.asDouble(), g = got.asDouble();
            assertTrue(Math.abs(w - g) <= 1e-6 * Math.max(1e-12, Math.abs(w)) || w == g, path + ": " + g + " vs " + w);
            count[0]++;
        } else if (want.isContainerNode()) {
            assertEquals(want.size(), got.size(), path);
            if (want.isArray()) {
                for (int i = 0; i < want.size(); i++) sameNumbers(want.get(i), got.get(i), path + "[" + i + "]", count);
            } else {
                for (Iterator<Map.Entry<String, JsonNode>> it = want.fields(); it.hasNext(); ) {
                    var e = it.next();
                    sameNumbers(e.getValue(), got.get(e.getKey()), path + "." + e.getKey(), count);
                }
            }
        }
    }

    @Test
    void foldLnsOfTheBinGivesAPreLnCheckpointWithTheSameForward() throws Exception {
        Path folded = tmp.resolve("folded");
        CliRunner.Result r = CliRunner.run("fold-lns", "-m", Fixtures.tinyCurseLnsCode().toString(), "--norm-type", "LNS", "--out", folded.toString());
        assertEquals(0, r.exit(), r.err());
        Path ids = Files.writeString(tmp.resolve("ids.json"), "[[1, 400, 37, 2048, 5, 900, 11, 3000, 77, 150, 6, 4000]]");
        Path a = tmp.resolve("a.safetensors"), b = tmp.resolve("b.safetensors");
        r = CliRunner.run("trace", "-m", Fixtures.tinyCurseLnsCode().toString(), "--norm-type", "LNS", "--ids", ids.toString(), "--out", a.toString());
        assertEquals(0, r.exit(), r.err());
        r = CliRunner.run("trace", "-m", folded.toString(), "--norm-type", "pre", "--ids", ids.toString(), "--out", b.toString());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile fa = SafetensorsFile.open(a); SafetensorsFile fb = SafetensorsFile.open(b)) {
            for (String name : new String[] {"resid.1", "resid.12", "resid.24", "logits"}) {
                double err = Fixtures.relMaxError(Fixtures.readFloats(fb, name), Fixtures.readFloats(fa, name));
                assertTrue(err <= 1e-5, name + " error " + err);
            }
        }
    }

    @Test
    void foldLnsRefusesFormsWithoutLnsFactors() {
        for (String fixture : new String[] {"post", "mix_post_pre", "sandwich"}) {
            Path out = tmp.resolve(fixture);
            CliRunner.Result r = CliRunner.run("fold-lns", "-m", Fixtures.lnsCode(fixture).resolve("model").toString(), "--out", out.toString());
            assertEquals(3, r.exit(), r.err());
            String line = r.err().lines().filter(l -> l.startsWith("depthlens: error: ")).findFirst().orElse("");
            assertTrue(line.contains("no LayerNorm Scaling factors to fold") && line.contains(LnsCode.normType(fixture)), r.err());
            assertFalse(Files.exists(out));
        }
    }
}
