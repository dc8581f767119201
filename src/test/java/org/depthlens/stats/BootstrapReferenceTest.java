package org.depthlens.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Map;

import static org.depthlens.JsonArrays.ints;
import static org.depthlens.JsonArrays.matrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The window bootstrap against an independent NumPy implementation (tools/bootstrap_reference.py): the same
 * per-window sums and the same resampling indices, NumPy's percentiles and its own average-rank Spearman.
 */
class BootstrapReferenceTest {
    static final double TOL = 1e-12;

    @Test
    void intervalsMatchNumPyOnTheSameResamples() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/bootstrap/reference.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int w = ref.get("windows").asInt(), p = ref.get("positions").asInt();
        double[][] rows = matrix(ref.get("rows"));
        int[][] idx = ints(ref.get("indices"));
        JsonNode c = ref.get("columns");
        int a = c.get("a").asInt(), b = c.get("b").asInt(), n = c.get("var_n").asInt(), s = c.get("var_s").asInt(), q = c.get("var_q").asInt();

        WindowTable t = new WindowTable(w);
        t.columns(rows);
        t.metric("ratio_a", 1, new int[] {p}, x -> ratio(x, a, p));
        t.metric("variance", 1, new int[] {3}, x -> {
            double[] v = new double[3];
            for (int d = 0; d < 3; d++) v[d] = (x[q + d] - x[s + d] * x[s + d] / x[n + d]) / x[n + d];
            return v;
        });
        t.metric("spearman", 0, new int[] {1}, x -> new double[] {Spearman.rho(ratio(x, a, p), ratio(x, b, p))});
        Map<String, Band> ci = t.intervals(idx);
        for (String k : new String[] {"ratio_a", "variance", "spearman"}) {
            check(k, ref.get("ci95").get(k), ci.get(k));
            double[] point = t.value(k);
            for (int i = 0; i < point.length; i++) assertEquals(ref.get("point").get(k).get(i).asDouble(), point[i], TOL, k + " point " + i);
        }

        // the paired difference: two tables over the same windows, one resampling
        WindowTable ta = new WindowTable(w), tb = new WindowTable(w);
        ta.columns(rows);
        tb.columns(rows);
        ta.metric("ratio", 1, new int[] {p}, x -> ratio(x, a, p));
        tb.metric("ratio", 1, new int[] {p}, x -> ratio(x, b, p));
        check("diff", ref.get("ci95").get("diff"), WindowTable.paired(ta, tb, idx).get("ratio"));
    }

    @Test
    void theSeededIndicesAreTheSameEveryTimeAndInRange() {
        int[][] x = Bootstrap.indices(7, 50, 3), y = Bootstrap.indices(7, 50, 3);
        for (int r = 0; r < 50; r++) {
            assertTrue(java.util.Arrays.equals(x[r], y[r]));
            for (int k : x[r]) assertTrue(k >= 0 && k < 7);
        }
    }

    private static double[] ratio(double[] x, int at, int p) {
        double[] v = new double[p];
        for (int i = 0; i < p; i++) v[i] = x[at + i] / x[0];
        return v;
    }

    private static void check(String key, JsonNode expected, Band got) {
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(expected.get(i).get(0).asDouble(), got.lo()[0][i], TOL, key + " lo " + i);
            assertEquals(expected.get(i).get(1).asDouble(), got.hi()[0][i], TOL, key + " hi " + i);
        }
    }
}
