package org.depthlens.cli;

import org.depthlens.Fixtures;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code depthlens trace} writes HF's resid.* and logits (same names and meaning as the fixtures). */
class TraceCommandTest {
    @TempDir
    Path tmp;

    /** Three HF fixtures (dense, sharded, latent attention) and every family whose block differs from Llama's. */
    static java.util.stream.Stream<String> traced() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("llama", "qwen2_sharded", "deepseek_v2_lite"),
                org.depthlens.FixtureSet.litgpt());
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("traced")
    void traceMatchesFixture(String fixture) throws Exception {
        Path ref = Fixtures.dir(fixture).resolve("reference.safetensors");
        Path ids = tmp.resolve("ids.json");
        int layers;
        try (SafetensorsFile f = SafetensorsFile.open(ref)) {
            var t = f.tensors().get("input_ids");
            long[] v = f.readLongs(t);
            int b = (int) t.shape()[0], n = (int) t.shape()[1];
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < b; i++) {
                sb.append(i > 0 ? "," : "").append(Arrays.toString(Arrays.copyOfRange(v, i * n, (i + 1) * n)));
            }
            Files.writeString(ids, sb.append("]").toString());
            layers = (int) f.tensors().keySet().stream().filter(k -> k.startsWith("resid.")).count() - 1;
        }
        Path out = tmp.resolve("trace.safetensors");
        CliRunner.Result r = CliRunner.run("trace", "--model", Fixtures.dir(fixture).resolve("model").toString(),
                "--ids", ids.toString(), "--out", out.toString());
        assertEquals(0, r.exit(), r.err());
        try (SafetensorsFile got = SafetensorsFile.open(out); SafetensorsFile want = SafetensorsFile.open(ref)) {
            assertArrayEquals(want.readLongs(want.tensors().get("input_ids")), got.readLongs(got.tensors().get("input_ids")));
            for (int l = 0; l <= layers; l++) {
                String name = "resid." + l;
                assertArrayEquals(want.tensors().get(name).shape(), got.tensors().get(name).shape(), name);
                double err = Fixtures.relMaxError(Fixtures.readFloats(got, name), Fixtures.readFloats(want, name));
                assertTrue(err <= org.depthlens.FixtureSet.of(fixture).streamTolerance(), name + " error " + err);
            }
            double err = Fixtures.relMaxError(Fixtures.readFloats(got, "logits"), Fixtures.readFloats(want, "logits"));
            assertTrue(err <= 1e-5, "logits error " + err);
        }
        try (var s = Files.list(tmp)) {
            assertEquals(2, s.count(), "only ids.json and the trace: no temporary files left");
        }
    }
}
