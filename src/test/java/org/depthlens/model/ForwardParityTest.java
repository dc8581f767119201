package org.depthlens.model;

import org.depthlens.model.family.Architecture;

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
 * The forward pass against HF transformers' own activations (fixtures/hf/<family>/reference.safetensors):
 * every residual-stream state, every attention and MLP output, and the logits.
 */
class ForwardParityTest {
    static final Set<String> BF16 = Set.of("llama3_bf16_tied", "mistral_sliding", "qwen3", "qwen3_moe", "deepseek_v3");
    static final List<String> DENSE = List.of("llama", "llama3_bf16_tied", "mistral_sliding", "qwen2_sharded", "qwen3");

    @TempDir
    Path tmp;

    static Stream<Arguments> dense() {
        List<Arguments> out = new ArrayList<>();
        for (String f : DENSE) {
            out.add(Arguments.of(f, false));
            out.add(Arguments.of(f, true));
        }
        return out.stream();
    }

    @ParameterizedTest(name = "{0} legacyConfig={1}")
    @MethodSource("dense")
    void matchesHuggingFace(String fixture, boolean legacy) {
        assertParity(fixture, legacy, tmp);
    }

    /** Runs the fixture and compares every reference tensor; returns the worst relative error. */
    static double assertParity(String fixture, boolean legacy, Path tmp) {
        double tol = BF16.contains(fixture) ? 3e-3 : 1e-5;
        Path dir = Fixtures.copyModel(fixture, legacy, tmp);
        double worst = 0;
        StringBuilder report = new StringBuilder(fixture + (legacy ? " (legacy config)" : "") + ":");
        try (SafetensorsFile ref = SafetensorsFile.open(Fixtures.hf(fixture).resolve("reference.safetensors"))) {
            for (Map.Entry<String, float[]> e : forward(dir, fixture, null).entrySet()) {
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
        return forward(dir, Fixtures.hf(fixture).resolve("reference.safetensors"), usage);
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
            Rope.Tables rope = m.ropeTables(seq);
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
