package org.depthlens.model;

import org.depthlens.model.family.Architecture;

import org.depthlens.FixtureSet;
import org.depthlens.Fixtures;
import org.depthlens.weights.SafetensorsFile;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.ndarray.INDArray;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The forward pass against reference activations not computed by depthlens (HF transformers' own in
 * fixtures/hf, LitGPT's float64 ones in fixtures/litgpt_ref): every residual-stream state, every attention and
 * MLP output the reference has, and the logits. Dense fixtures of {@link FixtureSet}; MoE ones in {@link MoeParityTest}.
 */
class ForwardParityTest {
    @TempDir
    Path tmp;

    static Stream<Arguments> dense() {
        return withLegacy(FixtureSet.dense());
    }

    /** Each fixture with its config, and again with its pre-v5 config when it has one. */
    static Stream<Arguments> withLegacy(Stream<String> fixtures) {
        List<Arguments> out = new ArrayList<>();
        fixtures.forEach(f -> {
            out.add(Arguments.of(f, false));
            if (FixtureSet.of(f).hasLegacyConfig()) out.add(Arguments.of(f, true));
        });
        return out.stream();
    }

    @ParameterizedTest(name = "{0} legacyConfig={1}")
    @MethodSource("dense")
    void matchesHuggingFace(String fixture, boolean legacy) {
        assertParity(fixture, legacy, tmp);
    }

    /** Runs the fixture and compares every reference tensor; returns the worst relative error. */
    static double assertParity(String fixture, boolean legacy, Path tmp) {
        double tol = FixtureSet.of(fixture).streamTolerance();
        Path dir = Fixtures.copyModel(fixture, legacy, tmp);
        double worst = 0;
        StringBuilder report = new StringBuilder(fixture + (legacy ? " (legacy config)" : "") + ":");
        try (SafetensorsFile ref = SafetensorsFile.open(Fixtures.dir(fixture).resolve("reference.safetensors"))) {
            for (Map.Entry<String, float[]> e : forward(dir, fixture, null).entrySet()) {
                if (!ref.tensors().containsKey(e.getKey())) continue; // LitGPT's references hold the stream and logits only
                double err = Fixtures.relMaxError(e.getValue(), Fixtures.readFloats(ref, e.getKey()));
                if (err > tol) report.append(String.format(" %s=%.3e", e.getKey(), err));
                worst = Math.max(worst, err);
            }
        }
        System.out.println(report + String.format(" worst %.3e (tolerance %.0e)", worst, tol));
        assertTrue(worst <= tol, report.toString());
        return worst;
    }

    /**
     * The fixture's reference input_ids through the model in {@code dir}: embed, every block, the head. Returns
     * resid.0..L, attn_out.*, mlp_out.* and logits (HF's reference names), in that order; {@code usage}, if not
     * null, gets each MoE block's expert counts.
     */
    static Map<String, float[]> forward(Path dir, String fixture, Map<Integer, long[]> usage) {
        return forward(dir, Fixtures.dir(fixture).resolve("reference.safetensors"), usage);
    }

    /** {@link #forward(Path, String, Map)} on the input_ids of reference file {@code reference}. */
    static Map<String, float[]> forward(Path dir, Path reference, Map<Integer, long[]> usage) {
        Map<String, float[]> out = new LinkedHashMap<>();
        try (Model m = Model.open(dir, Architecture.LnsMode.AUTO);
             SafetensorsFile ref = SafetensorsFile.open(reference)) {
            long[] shape = ref.tensors().get("input_ids").shape();
            int batch = (int) shape[0], seq = (int) shape[1];
            long[] ids = ref.readLongs(ref.tensors().get("input_ids"));
            int[] flat = new int[ids.length];
            for (int i = 0; i < ids.length; i++) flat[i] = (int) ids[i];
            Architecture a = m.arch();
            INDArray x = m.embed(flat);
            out.put("resid.0", flat(x));
            WeightPool pool = m.newPool();
            RopeTables rope = m.ropeTables(seq);
            for (int j = 0; j < a.layers(); j++) {
                ExpertUsage counts = usage == null ? null : ExpertUsage.forBlock(a.blocks().get(j));
                BlockTrace trace = new BlockTrace(true, counts);
                x = BlockForward.forward(a, m.loadBlock(j, pool), x, batch, seq, rope, trace);
                if (counts != null) usage.put(j, counts.counts());
                out.put("attn_out." + j, flat(trace.attnOut));
                out.put("mlp_out." + j, flat(trace.mlpOut));
                out.put("resid." + (j + 1), flat(x));
            }
            out.put("logits", flat(m.head().logits(x, seq)));
        }
        return out;
    }

    static float[] flat(INDArray a) {
        return a.dup('c').data().asFloat();
    }
}
