package org.depthlens.model;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.Families;
import org.depthlens.model.family.Weight;
import org.depthlens.weights.Checkpoint;
import org.depthlens.weights.DType;
import org.depthlens.weights.TensorInfo;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The weight lists of the family descriptions against checkpoints HF wrote: every fixture holds exactly the
 * tensors its description lists, with the same shapes; and {@code synth} writes exactly that list.
 */
class FamilyDescriptionTest {
    @TempDir
    Path tmp;

    private static Map<String, String> described(Architecture a) {
        Map<String, String> out = new TreeMap<>();
        for (Weight w : a.allWeights()) for (Weight.Part p : w.parts()) out.put(p.name(), Arrays.toString(p.shape()));
        return out;
    }

    private static Map<String, String> held(Path dir) {
        Map<String, String> out = new TreeMap<>();
        try (Checkpoint ck = Checkpoint.open(dir)) {
            for (TensorInfo t : ck.tensors().values()) out.put(t.name(), Arrays.toString(t.shape()));
        }
        return out;
    }

    @ParameterizedTest
    @org.junit.jupiter.params.provider.MethodSource("org.depthlens.FixtureSet#all")
    void checkpointsHoldExactlyTheDescribedTensors(String fixture) {
        Path dir = org.depthlens.FixtureSet.of(fixture).model();
        assertEquals(held(dir), described(Families.read(dir, Architecture.LnsMode.AUTO)), fixture);
    }

    @Test
    void synthWritesTheDescribedTensors() throws IOException {
        java.util.List<String> fixtures = new java.util.ArrayList<>(java.util.List.of("mixtral", "qwen2_moe", "deepseek_v3"));
        org.depthlens.FixtureSet.litgpt().forEach(fixtures::add);
        for (String fixture : fixtures) {
            @SuppressWarnings("unchecked")
            Map<String, Object> config = new ObjectMapper().readValue(Fixtures.dir(fixture).resolve("model/config.json").toFile(), Map.class);
            Path out = tmp.resolve(fixture);
            SyntheticCheckpoint.write(new SyntheticCheckpoint.Shape(fixture, fixture, config), null, DType.F32, 7, out);
            assertEquals(described(Families.read(Fixtures.dir(fixture).resolve("model"), Architecture.LnsMode.AUTO)), held(out), fixture);
            try (Model m = Model.open(out, Architecture.LnsMode.AUTO)) { // every tensor accounted for
                assertEquals(fixture, m.arch().family());
            }
        }
    }
}
