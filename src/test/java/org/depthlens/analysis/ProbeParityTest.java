package org.depthlens.analysis;

import org.depthlens.util.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.MetricsAssert;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.junit.jupiter.params.ParameterizedTest;
import org.depthlens.FixtureSet;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Probe metrics computed from our forward pass vs the ones the reference's stream gives (every fixture's
 * reference.json), the removal sweep included: each other block keeps its own attention type and rotary table.
 */
class ProbeParityTest {
    @ParameterizedTest
    @MethodSource("org.depthlens.FixtureSet#all")
    void fixtureMetrics(String fixture) throws IOException {
        check(fixture);
    }

    static void check(String fixture) throws IOException {
        Path dir = Fixtures.dir(fixture);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference.json").toFile()).get("metrics");
        List<int[]> windows = Fixtures.windows(fixture);
        try (Model m = Model.open(dir.resolve("model"), Architecture.LnsMode.AUTO)) {
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows);
            MetricsAssert.assertMatches(ref, o.metrics(), FixtureSet.of(fixture).metricsTolerance(), fixture);
        }
    }
}
