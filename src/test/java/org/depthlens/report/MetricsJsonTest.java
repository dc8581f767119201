package org.depthlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.BadInputException;
import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.Provenance;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsJsonTest {

    @Test
    void roundTripIsBitExactForEveryReferenceModel(@TempDir Path dir) throws Exception {
        for (ModelResult r : ReferenceData.all()) {
            Path f = dir.resolve(r.label() + ".json");
            MetricsJson.write(r, f);
            assertSame(r, MetricsJson.read(f));
        }
    }

    @Test
    void writtenNumbersEqualTheReferenceFile() throws Exception {
        // the numbers in our file, parsed independently, are the numbers of reference_metrics.json
        JsonNode ref = ReferenceData.node("pre_ln");
        JsonNode ours = new ObjectMapper().readTree(MetricsJson.toJson(ReferenceData.model("pre_ln")));
        for (String k : List.of("block_influence", "variance", "token_variance", "rms", "update_ratio",
                "loss_without_layer", "angular_all", "angular_last")) {
            assertEquals(ref.get(k), ours.get(k), k);
        }
        assertEquals(ref.get("loss").doubleValue(), ours.get("loss").doubleValue());
        assertEquals(24, ours.get("blocks").intValue());
        assertEquals(24, ours.get("angular_all").size());
        assertEquals(24, ours.get("angular_all").get(0).size());
        assertEquals(1, ours.get("angular_all").get(23).size());
    }

    @Test
    void topLevelKeysAreExactlyTheDocumentedOnesInOrder() throws Exception {
        JsonNode root = new ObjectMapper().readTree(MetricsJson.toJson(ReferenceData.model("lns")));
        List<String> keys = new ArrayList<>();
        root.fieldNames().forEachRemaining(keys::add);
        assertEquals(MetricsJson.KEYS, keys);
        List<String> prov = new ArrayList<>();
        root.get("provenance").fieldNames().forEachRemaining(prov::add);
        assertEquals(List.of("model_path", "config_sha256", "weights_sha256", "data_path", "data_sha256", "windows",
                "tokens", "tool_version", "date"), prov);
        JsonNode pr = root.get("pruned_removal").get(0);
        List<String> prk = new ArrayList<>();
        pr.fieldNames().forEachRemaining(prk::add);
        assertEquals(List.of("n", "start", "loss"), prk);
        assertTrue(root.get("expert_usage").isNull(), "dense model: expert_usage is null");
    }

    @Test
    void outputIsDeterministicAndPrettyPrinted() {
        ModelResult r = ReferenceData.model("early/lns");
        String a = MetricsJson.toJson(r);
        String b = MetricsJson.toJson(ReferenceData.model("early/lns"));
        assertEquals(a, b);
        assertTrue(a.startsWith("{\n  \"label\": \"lns-step141\",\n  \"family\": \"llama\",\n"), a.substring(0, 80));
        assertTrue(a.endsWith("}\n"));
        assertTrue(!a.contains("\r"));
    }

    @Test
    void shortestRepresentationIsUsed() {
        Metrics m = tiny(new double[] {0.1, 1e-5, 2.0 / 3.0, 5.0E-324, Double.MAX_VALUE, -0.0}, 0.3);
        String json = MetricsJson.toJson(new ModelResult("t", "llama", false, m, null, null, null));
        assertTrue(json.contains("0.1,"), json);
        assertTrue(json.contains("1.0E-5,"), json);
        assertTrue(json.contains("0.6666666666666666,"), json);
        ModelResult back = MetricsJson.parse(json, "test");
        assertArrayEquals(m.variance(), back.metrics().variance());
        assertEquals(Double.doubleToRawLongBits(-0.0), Double.doubleToRawLongBits(back.metrics().variance()[5]));
    }

    @Test
    void nonFiniteValuesAreWrittenAsNullAndReadAsNaN() {
        Metrics m = tiny(new double[] {1, Double.NaN, Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, 2, 3},
                Double.NaN);
        String json = MetricsJson.toJson(new ModelResult("t", "llama", false, m, null, null, null));
        assertTrue(!json.contains("NaN") && !json.contains("Infinity"), json);
        ModelResult back = MetricsJson.parse(json, "test");
        double[] v = back.metrics().variance();
        assertEquals(1.0, v[0]);
        assertTrue(Double.isNaN(v[1]) && Double.isNaN(v[2]) && Double.isNaN(v[3]));
        assertTrue(Double.isNaN(back.metrics().loss()));
    }

    @Test
    void expertUsageAndPruningRoundTrip() {
        Metrics m = tiny(new double[] {1, 2, 3, 4, 5, 6}, 2.5);
        List<long[]> usage = Arrays.asList(null, new long[] {5, 0, 7, 9_000_000_000L}, new long[] {1, 2, 3, 4},
                new long[] {0, 0, 0, 0}, new long[] {4, 3, 2, 1});
        ModelResult r = new ModelResult("moe", "mixtral", true, m,
                List.of(new PrunedRemoval(1, 3, 2.75), new PrunedRemoval(2, 2, 3.5)), usage,
                new Provenance("/m", "c", "w", "/d", "ds", 3, 768, "0.1.0", "2025-01-01"));
        ModelResult back = MetricsJson.parse(MetricsJson.toJson(r), "test");
        assertSame(r, back);
    }

    @Test
    void missingLossSweepAndProvenanceStayNull() {
        Metrics m0 = tiny(new double[] {1, 2, 3, 4, 5, 6}, 2.5);
        Metrics m = new Metrics(m0.blocks(), m0.angularAll(), m0.angularLast(), m0.blockInfluence(), m0.variance(),
                m0.tokenVariance(), m0.rms(), m0.updateRatio(), m0.loss(), null);
        ModelResult back = MetricsJson.parse(MetricsJson.toJson(new ModelResult("x", null, false, m, null, null,
                null)), "test");
        assertNull(back.metrics().lossWithoutLayer());
        assertNull(back.prunedRemoval());
        assertNull(back.provenance());
        assertNull(back.expertUsage());
        assertNull(back.family());
    }

    @Test
    void malformedFilesAreRejectedWithTheKeyNamed() {
        String good = MetricsJson.toJson(ReferenceData.model("pre_ln"));
        BadInputException e = assertThrows(BadInputException.class,
                () -> MetricsJson.parse(good.replace("\"variance\": [", "\"variance\": [ 1.0,"), "m.json"));
        assertTrue(e.getMessage().contains("m.json") && e.getMessage().contains("variance"), e.getMessage());
        e = assertThrows(BadInputException.class,
                () -> MetricsJson.parse(good.replace("\"blocks\": 24", "\"blocks\": \"24\""), "m.json"));
        assertTrue(e.getMessage().contains("blocks"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> MetricsJson.parse("{", "m.json"));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
    }

    @Test
    void wrongShapesAreRefusedOnWrite() {
        Metrics m0 = tiny(new double[] {1, 2, 3, 4, 5, 6}, 2.5);
        Metrics bad = new Metrics(m0.blocks(), m0.angularAll(), m0.angularLast(), m0.blockInfluence(),
                new double[] {1, 2}, m0.tokenVariance(), m0.rms(), m0.updateRatio(), m0.loss(), null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MetricsJson.toJson(new ModelResult("x", "f", false, bad, null, null, null)));
        assertTrue(e.getMessage().contains("variance has 2 entries, expected 6"), e.getMessage());
    }

    /** A 5-block model whose variance is {@code variance} (length 6) and other arrays simple ramps. */
    static Metrics tiny(double[] variance, double loss) {
        int L = 5;
        double[][] tri = new double[L][];
        for (int l = 0; l < L; l++) {
            tri[l] = new double[L - l];
            for (int n = 1; n <= L - l; n++) {
                tri[l][n - 1] = 0.01 * (l + 1) * n;
            }
        }
        double[] block = {0.5, 0.1, 0.05, 0.02, 0.01};
        double[] depth = {0.1, 1, 1.5, 2, 2.5, 3};
        return new Metrics(L, tri, tri, block, variance, depth, depth, block, loss,
                new double[] {loss + 3, loss + 0.2, loss + 0.1, loss - 0.01, loss + 0.05});
    }

    static void assertSame(ModelResult a, ModelResult b) {
        assertEquals(a.label(), b.label());
        assertEquals(a.family(), b.family());
        assertEquals(a.lns(), b.lns());
        Metrics x = a.metrics();
        Metrics y = b.metrics();
        assertEquals(x.blocks(), y.blocks());
        assertTriangle(x.angularAll(), y.angularAll());
        assertTriangle(x.angularLast(), y.angularLast());
        assertBits(x.blockInfluence(), y.blockInfluence());
        assertBits(x.variance(), y.variance());
        assertBits(x.tokenVariance(), y.tokenVariance());
        assertBits(x.rms(), y.rms());
        assertBits(x.updateRatio(), y.updateRatio());
        assertEquals(Double.doubleToRawLongBits(x.loss()), Double.doubleToRawLongBits(y.loss()));
        assertBits(x.lossWithoutLayer(), y.lossWithoutLayer());
        assertEquals(a.prunedRemoval(), b.prunedRemoval());
        if (a.expertUsage() == null) {
            assertNull(b.expertUsage());
        } else {
            assertEquals(a.expertUsage().size(), b.expertUsage().size());
            Iterator<long[]> it = b.expertUsage().iterator();
            for (long[] c : a.expertUsage()) {
                assertArrayEquals(c, it.next());
            }
        }
        assertEquals(a.provenance(), b.provenance());
    }

    static void assertTriangle(double[][] a, double[][] b) {
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) {
            assertBits(a[i], b[i]);
        }
    }

    static void assertBits(double[] a, double[] b) {
        if (a == null) {
            assertNull(b);
            return;
        }
        assertEquals(a.length, b.length);
        for (int i = 0; i < a.length; i++) {
            assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(b[i]), "index " + i);
        }
    }
}
