package org.depthlens.analysis;

import org.depthlens.util.Progress;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.MetricsAssert;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/** Probe metrics computed from our forward pass vs the ones HF's stream gives (fixtures' reference.json). */
class ProbeParityTest {
    static final Set<String> BF16 = Set.of("llama3_bf16_tied", "mistral_sliding", "qwen3", "qwen3_moe", "deepseek_v3");

    @ParameterizedTest
    @ValueSource(strings = {"llama", "llama3_bf16_tied", "mistral_sliding", "qwen2_sharded", "qwen3",
            "mixtral", "qwen2_moe", "qwen3_moe", "deepseek_v2_lite", "deepseek_v3"})
    void fixtureMetrics(String fixture) throws IOException {
        check(fixture);
    }

    static void check(String fixture) throws IOException {
        Path dir = Fixtures.hf(fixture);
        JsonNode ref = new ObjectMapper().readTree(dir.resolve("reference.json").toFile()).get("metrics");
        List<int[]> windows = Fixtures.windows(fixture);
        try (Model m = Model.open(dir.resolve("model"), Architecture.LnsMode.AUTO)) {
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows);
            MetricsAssert.assertMatches(ref, o.metrics(), BF16.contains(fixture) ? 5e-3 : 1e-5, fixture);
        }
    }
}
