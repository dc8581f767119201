package org.depthlens.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.LnsCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The paper's Table 2 set (Pre-LN, Post-LN, Mix-LN, LNS checkpoints of the Curse-of-Depth code) in one
 * {@code analyze} run from sample-configs/curse-of-depth-code-forms.json: each model's form recorded in
 * metrics.json's provenance, labelled in the report, and the shared config.json not mistaken for a
 * trajectory of one run; the Pre-LN model's loss against its fixture's reference.json.
 */
class NormFormCompareTest {
    @TempDir
    Path tmp;

    /**
     * {@code analyze --config} on a shipped sample config, as written: its paths point at ../shared next to the project,
     * and the tests' shared folder may be elsewhere, so a copy with those paths rewritten runs.
     */
    private CliRunner.Result analyzeSample(String name, Path out) throws Exception {
        Path sample = Path.of(System.getProperty("depthlens.root", ".")).resolve("sample-configs").resolve(name);
        String json = Files.readString(sample).replace("\"../../shared/", "\"" + Fixtures.shared().toString().replace('\\', '/') + "/");
        Path config = tmp.resolve(name);
        Files.writeString(config, json);
        return CliRunner.run("analyze", "--config", config.toString(), "--out", out.toString());
    }

    /**
     * sample-configs/released-block-forms-fixtures.json runs as shipped, and every model's metrics.json and the
     * report name the block form its family computes (fixed by the family: no note, no detection).
     */
    @Test
    void releasedFamiliesAreNamedByTheirBlockForm() throws Exception {
        Path out = tmp.resolve("released");
        CliRunner.Result r = analyzeSample("released-block-forms-fixtures.json", out);
        assertEquals(0, r.exit(), r.err());
        Map<String, String> want = Map.of("llama_pre-ln", "pre", "gemma2_sandwich", "sandwich", "olmo2_output-norm", "output_norm",
                "gpt-neox_parallel", "parallel", "olmo_pre-ln-layernorm", "pre");
        ObjectMapper om = new ObjectMapper();
        for (var e : want.entrySet()) {
            JsonNode p = om.readTree(out.resolve(e.getKey()).resolve("metrics.json").toFile()).get("provenance");
            assertEquals(e.getValue(), p.get("norm_type").asText(), e.getKey());
        }
        String html = Files.readString(out.resolve("report.html"));
        for (String label : new String[] {"Pre-LN (pre)", "Sandwich-LN / Peri-LN (sandwich)", "Output-norm (output_norm)",
                "Parallel residual (parallel)"}) {
            assertTrue(html.contains("<td>" + label + "</td>"), "report labels the form " + label);
        }
    }

    @Test
    void sampleConfigComparesTheFormsSideBySide() throws Exception {
        Path out = tmp.resolve("out");
        CliRunner.Result r = analyzeSample("curse-of-depth-code-forms.json", out);
        assertEquals(0, r.exit(), r.err());
        assertFalse(r.err().contains("depthlens: note:"), "every form was given: " + r.err());
        Map<String, String[]> want = Map.of("pre_ln", new String[] {"pre", null}, "post_ln", new String[] {"post", null},
                "mix_ln", new String[] {"post_pre", "2"}, "lns", new String[] {"LNS", null});
        ObjectMapper om = new ObjectMapper();
        for (var e : want.entrySet()) {
            JsonNode m = om.readTree(out.resolve(e.getKey()).resolve("metrics.json").toFile());
            JsonNode p = m.get("provenance");
            assertEquals(e.getValue()[0], p.get("norm_type").asText(), e.getKey());
            assertEquals(e.getValue()[1], p.has("post_num") ? p.get("post_num").asText() : null, e.getKey());
            assertEquals("--norm-type", p.get("norm_source").asText());
            assertEquals(e.getKey().equals("lns"), m.get("lns").asBoolean());
        }
        JsonNode pre = om.readTree(out.resolve("pre_ln/metrics.json").toFile());
        JsonNode ref = LnsCode.reference("pre").get("metrics");
        assertEquals(ref.get("loss").asDouble(), pre.get("loss").asDouble(), 1e-5 * ref.get("loss").asDouble());
        for (int l = 0; l < ref.get("loss_without_layer").size(); l++) {
            double w = ref.get("loss_without_layer").get(l).asDouble();
            assertEquals(w, pre.get("loss_without_layer").get(l).asDouble(), 1e-5 * w);
        }
        String html = Files.readString(out.resolve("report.html"));
        for (String label : new String[] {"Pre-LN (pre)", "Post-LN (post)", "Mix-LN (post_pre, POST_NUM=2)", "LNS"}) {
            assertTrue(html.contains("<td>" + label + "</td>"), "report labels the form " + label);
        }
        assertTrue(html.contains("Post-norm blocks (post_ln, mix_ln)"), "the comparison notes the normalised streams");
        assertFalse(html.contains("Trajectory 1"), "same config.json, different forms: not checkpoints of one run");
    }

    @Test
    void runConfigTakesNormTypeAndPostNumKeys() {
        var keys = RunConfig.keysOf(new picocli.CommandLine(new AnalyzeCommand()).getCommandSpec());
        assertTrue(keys.contains("normType") && keys.contains("postNum"), keys.toString());
        keys = RunConfig.keysOf(new picocli.CommandLine(new EvalCommand()).getCommandSpec());
        assertTrue(keys.contains("normType") && keys.contains("postNum"), keys.toString());
    }
}
