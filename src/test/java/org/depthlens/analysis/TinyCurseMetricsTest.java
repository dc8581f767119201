package org.depthlens.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import org.depthlens.Fixtures;
import org.depthlens.MetricsAssert;
import org.depthlens.TinyCurse;
import org.depthlens.model.Architecture;
import org.depthlens.model.Model;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A really trained Pre-LN / LNS pair: every metric, the loss and the whole removal sweep against the
 * reference computed in float32 from the same BF16 weights (64 windows of 256 tokens; 16 for step 141).
 * The LNS models get their 1/sqrt(l+1) factor from "layernorm_scaling": true in config.json.
 */
class TinyCurseMetricsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"pre_ln, pre_ln, 64", "lns, lns, 64", "pre_ln-step141, early.pre_ln, 16", "lns-step141, early.lns, 16"})
    void reproducesReferenceMetrics(String dir, String refKey, int windows) {
        JsonNode ref = TinyCurse.reference();
        for (String k : refKey.split("\\.")) ref = ref.get(k);
        try (Model m = Model.open(Fixtures.tinyCurse().resolve(dir), Architecture.LnsMode.AUTO)) {
            assertTrue(m.arch().lns() == dir.startsWith("lns"), "LNS detected from config");
            long t0 = System.nanoTime();
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 0, 2L << 30), Progress.NONE)
                    .run(TinyCurse.windows(windows, 256));
            System.out.printf("%s: %d windows in %.1f s, loss %.6f (ref %.6f)%n", dir, windows, (System.nanoTime() - t0) / 1e9,
                    o.metrics().loss(), ref.get("loss").asDouble());
            MetricsAssert.assertMatches(ref, o.metrics(), 1e-4, dir);
        }
    }
}
