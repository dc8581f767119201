package org.depthlens.model;

import org.depthlens.model.family.Architecture;
import org.depthlens.model.family.MlpSpec;
import org.depthlens.model.family.BlockSpec;

import org.depthlens.Fixtures;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The mixture-of-experts and latent-attention families against HF's activations (same checks and
 * tolerances as {@link ForwardParityTest}), plus the expert bookkeeping: usage counts and on-demand
 * loading of only the chosen experts.
 */
class MoeParityTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> moe() {
        return ForwardParityTest.withLegacy(org.depthlens.FixtureSet.moeFixtures());
    }

    @ParameterizedTest(name = "{0} legacyConfig={1}")
    @MethodSource("moe")
    void matchesHuggingFace(String fixture, boolean legacy) {
        ForwardParityTest.assertParity(fixture, legacy, tmp);
    }

    /**
     * One count per token and selected expert in every MoE block; each chosen expert is read exactly once
     * per block (three projections), unchosen ones never, and all of them share one expert's buffers.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void countsExpertsAndLoadsOnlyChosenOnes(String fixture) {
        Path dir = Fixtures.copyModel(fixture, false, tmp);
        try (Model m = Model.open(dir, Architecture.LnsMode.AUTO);
             SafetensorsFile ref = SafetensorsFile.open(Fixtures.dir(fixture).resolve("reference.safetensors"))) {
            long[] shape = ref.tensors().get("input_ids").shape();
            int batch = (int) shape[0], seq = (int) shape[1];
            int[] ids = Arrays.stream(ref.readLongs(ref.tensors().get("input_ids"))).mapToInt(v -> (int) v).toArray();
            Architecture a = m.arch();
            INDArray x = m.embed(ids);
            WeightPool pool = m.newPool();
            org.depthlens.LoadCounts loads = org.depthlens.LoadCounts.on(pool);
            RopeTables rope = m.ropeTables(seq);
            StringBuilder report = new StringBuilder(fixture + " expert usage:");
            long expertBufferGrowth = 0;
            long oneExpert = 0;
            for (int j = 0; j < a.layers(); j++) {
                BlockSpec b = a.blocks().get(j);
                ExpertUsage usage = ExpertUsage.forBlock(b);
                BlockWeights w = m.loadBlock(j, pool);
                long loadsBefore = loads.total(), residentBefore = pool.residentBytes();
                x = BlockForward.forward(a, w, x, batch, seq, rope, new BlockTrace(false, usage));
                long expertLoads = loads.total() - loadsBefore;
                expertBufferGrowth += pool.residentBytes() - residentBefore;
                if (!(b.mlp() instanceof MlpSpec.Moe moe)) {
                    assertEquals(0, expertLoads, "dense block " + j + " loads nothing during its forward");
                    continue;
                }
                long[] counts = usage.counts();
                assertEquals((long) batch * seq * moe.topK(), Arrays.stream(counts).sum(), "block " + j);
                long chosen = Arrays.stream(counts).filter(c -> c > 0).count();
                assertEquals(3 * chosen, expertLoads, "block " + j + ": one load per projection of each chosen expert");
                report.append(" block ").append(j).append('=').append(Arrays.toString(counts));
                oneExpert = 3L * moe.intermediate() * a.hidden() * Float.BYTES;
            }
            // the routed experts of all blocks share one expert's worth of reused buffers
            assertEquals(oneExpert, expertBufferGrowth, "memory added by running the experts");
            System.out.println(report);
        }
    }

    static Stream<String> fixtures() {
        return org.depthlens.FixtureSet.moeFixtures();
    }
}
