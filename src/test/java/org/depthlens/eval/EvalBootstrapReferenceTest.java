package org.depthlens.eval;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.stats.Band;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import static org.depthlens.JsonArrays.doubles;
import static org.depthlens.JsonArrays.ints;
import static org.depthlens.JsonArrays.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * The evaluation's bootstrap against an independent NumPy implementation (tools/eval_bootstrap_reference.py): the same
 * per-choice log-likelihoods of a task (full model, 5 removals, 2 prunings) and per-document sums of a documents file,
 * the same resampling indices; NumPy scores the items with argmax, averages the drawn items' hits, recomputes the
 * perplexities from the drawn documents' sums and takes np.percentile. Every interval key, every point value, and the
 * paired difference between two models.
 */
class EvalBootstrapReferenceTest {
    static JsonNode ref;

    @BeforeAll
    static void load() throws Exception {
        try (InputStream in = EvalBootstrapReferenceTest.class.getResourceAsStream("/bootstrap/eval_reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
    }

    @Test
    void taskIntervalsMatchNumPyOnTheSameResamples() {
        JsonNode t = ref.get("task");
        int sides = t.get("loglik").size(), items = t.get("gold").size();
        List<List<String>> choices = new ArrayList<>();
        for (JsonNode lens : t.get("lengths")) {
            List<String> c = new ArrayList<>();
            for (JsonNode n : lens) c.add("x".repeat(n.asInt()));
            choices.add(c);
        }
        int[] gold = new int[items];
        for (int i = 0; i < items; i++) gold[i] = t.get("gold").get(i).asInt();
        int[][][] hits = new int[sides][][];
        for (int s = 0; s < sides; s++) hits[s] = McScoring.hits(matrix(t.get("loglik").get(s)), choices, gold);
        FileIntervals fi = FileIntervals.items(hits, ref.get("removals").asInt(), ref.get("prunings").asInt(), ints(t.get("indices")), 7);
        assertEquals(ref.get("resamples").asInt(), fi.resamples());
        assertEquals(items, fi.units());
        compare("task", t, fi, 0);
    }

    @Test
    void documentIntervalsAndThePairedDifferenceMatchNumPy() {
        JsonNode d = ref.get("docs");
        int docs = d.get("tokens").size();
        long[][] counts = new long[docs][];
        for (int k = 0; k < docs; k++) {
            counts[k] = new long[] {d.get("tokens").get(k).asLong(), d.get("words").get(k).asLong(), d.get("bytes").get(k).asLong()};
        }
        int[][] idx = ints(d.get("indices"));
        FileIntervals fi = FileIntervals.documents(counts, matrix(d.get("loglik")), ref.get("removals").asInt(), ref.get("prunings").asInt(),
                idx, 7);
        compare("docs", d, fi, 1e-12);

        FileIntervals other = FileIntervals.documents(counts, new double[][] {doubles(d.get("other_loglik"))}, 0, 0, idx, 7);
        Map<String, Band> paired = FileIntervals.paired(other, fi, DocsResult.METRICS, idx);
        for (String m : DocsResult.METRICS) {
            JsonNode e = d.get("ci95").get("paired." + m).get(0);
            Band b = paired.get(m);
            assertNotNull(b, m);
            assertEquals(e.get(0).asDouble(), b.lo0()[0], 1e-12 * Math.abs(e.get(0).asDouble()), "paired " + m + " lo");
            assertEquals(e.get(1).asDouble(), b.hi0()[0], 1e-12 * Math.abs(e.get(1).asDouble()), "paired " + m + " hi");
        }
    }

    /** Every key NumPy computed for this file (but the between-model ones): interval and point value, relative tolerance. */
    private static void compare(String what, JsonNode file, FileIntervals fi, double rel) {
        int keys = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = file.get("ci95").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            String key = e.getKey();
            if (key.startsWith("paired.")) continue;
            keys++;
            Band b = fi.ci95().get(key);
            assertNotNull(b, what + " " + key);
            assertEquals(e.getValue().size(), b.lo0().length, what + " " + key + " length");
            double[] point = fi.table().value(key);
            for (int i = 0; i < b.lo0().length; i++) {
                double lo = e.getValue().get(i).get(0).asDouble(), hi = e.getValue().get(i).get(1).asDouble();
                double p = file.get("point").get(key).get(i).asDouble();
                assertEquals(lo, b.lo0()[i], rel * Math.abs(lo) + 1e-15, what + " " + key + " lo " + i);
                assertEquals(hi, b.hi0()[i], rel * Math.abs(hi) + 1e-15, what + " " + key + " hi " + i);
                assertEquals(p, point[i], rel * Math.abs(p) + 1e-15, what + " " + key + " point " + i);
            }
        }
        assertEquals(fi.ci95().size(), keys, what + ": the same keys as NumPy: " + fi.ci95().keySet());
    }
}
