package org.depthlens.stats;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.util.Iterator;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spearman's rho against tools/spearman_check.py, plain Python counting ranks, on the score and damage arrays of the
 * metrics.json of a 32-block pair (tiny-curse-24's Pre-LN and LNS with blocks 8-15 stacked again by
 * tools/stack_blocks.py, 64 windows of 128 tokens); the script also found each file's own score_vs_damage equal to
 * its value (difference 0.0).
 */
class SpearmanCheckTest {
    @Test
    void rhoEqualsTheIndependentScript() throws Exception {
        JsonNode ref;
        try (InputStream in = getClass().getResourceAsStream("/bootstrap/spearman_check.json")) {
            ref = new ObjectMapper().readTree(in);
        }
        int checked = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = ref.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> model = it.next();
            double[] damage = doubles(model.getValue().get("damage"));
            for (Iterator<Map.Entry<String, JsonNode>> s = model.getValue().get("scores").fields(); s.hasNext(); ) {
                Map.Entry<String, JsonNode> score = s.next();
                double want = model.getValue().get("spearman").get(score.getKey()).asDouble();
                assertEquals(want, Spearman.rho(doubles(score.getValue()), damage), 1e-12, model.getKey() + " " + score.getKey());
                checked++;
            }
        }
        assertTrue(checked >= 10, "checked " + checked);
    }

    @Test
    void tiesShareTheMeanOfTheirRanks() {
        assertArrayEquals(new double[] {1, 2.5, 2.5, 4}, Spearman.ranks(new double[] {0.1, 0.5, 0.5, 0.9}), 0.0);
        assertEquals(-1.0, Spearman.rho(new double[] {1, 2, 3}, new double[] {3, 2, 1}), 1e-15);
        assertTrue(Double.isNaN(Spearman.rho(new double[] {1, 1, 1}, new double[] {3, 2, 1})));
    }

    private static double[] doubles(JsonNode n) {
        double[] a = new double[n.size()];
        for (int i = 0; i < a.length; i++) a[i] = n.get(i).asDouble();
        return a;
    }
}
