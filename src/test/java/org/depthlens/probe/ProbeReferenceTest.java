package org.depthlens.probe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.model.family.Architecture;
import org.depthlens.analysis.Analyzer;
import org.depthlens.model.BlockForward;
import org.depthlens.model.BlockWeights;
import org.depthlens.model.Model;
import org.depthlens.model.RopeTables;
import org.depthlens.model.Sublayer;
import org.depthlens.model.WeightPool;
import org.depthlens.pass.Batch;
import org.depthlens.util.Progress;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probes beyond the paper through the analysis pass, against tools/probe_reference.py (an independent
 * float64 NumPy forward of the tiny-curse pair whose loss and loss_without_layer reproduce
 * reference_metrics.json to 3e-8; its output is committed as src/test/resources/probe_reference.json).
 */
class ProbeReferenceTest {
    static JsonNode reference() throws IOException {
        try (InputStream in = ProbeReferenceTest.class.getResourceAsStream("/probe_reference.json")) {
            return new ObjectMapper().readTree(in);
        }
    }

    /** The whole analysis (every probe family on, removal sweep) of the first windows of the reference. */
    static Metrics analyse(Model m, JsonNode ref) {
        var windows = TinyCurse.windows(ref.get("windows").asInt(), ref.get("window_tokens").asInt());
        var options = new Analyzer.Options(true, 0, 1L << 30, Analyzer.DepthProbes.ALL);
        return new Analyzer(m, options, Progress.NONE).run(windows).metrics();
    }

    @ParameterizedTest(name = "tiny-curse-24/{0}")
    @ValueSource(strings = {"pre_ln", "lns"})
    void analysisMatchesReference(String dir) throws IOException {
        JsonNode ref = reference();
        JsonNode want = ref.get(dir);
        try (Model m = Model.open(Fixtures.tinyCurse().resolve(dir), Architecture.LnsMode.AUTO)) {
            Metrics got = analyse(m, ref);
            List<String> bad = new ArrayList<>();
            StringBuilder report = new StringBuilder(dir + ", worst relative error:");
            JsonNode lens = want.get("logit_lens");
            report.append(check(lens.get("loss"), got.logitLens().loss(), 1e-4, 0, "logit_lens.loss", bad));
            report.append(check(lens.get("kl"), got.logitLens().kl(), 1e-4, 1e-9, "logit_lens.kl", bad));
            report.append(top1(want, got.logitLens().top1Agreement(), bad));
            report.append(check(want.get("loss_without_attention"), got.lossWithoutAttention(), 1e-4, 0, "loss_without_attention", bad));
            report.append(check(want.get("loss_without_mlp"), got.lossWithoutMlp(), 1e-4, 0, "loss_without_mlp", bad));
            report.append(check(want.get("loss_without_layer"), got.lossWithoutLayer(), 1e-4, 0, "loss_without_layer", bad));
            report.append(check(want.get("jacobian_deviation"), got.jacobianDeviation(), 1e-2, 2e-3, "jacobian_deviation", bad));
            // the probe registered in one file (analysis/TokenSimilarity) against the reference's full cosine matrix
            report.append(check(want.get("token_similarity"), got.vector("token_similarity"), 1e-5, 1e-7, "token_similarity", bad));
            System.out.println(report);
            assertTrue(bad.isEmpty(), dir + ": " + String.join("; ", bad));

            // consistency: the lens at x[L] is the model itself
            int L = got.blocks();
            assertEquals(got.loss(), got.logitLens().loss()[L], 1e-6 * got.loss(), "logit_lens.loss[L] = loss");
            assertEquals(0.0, got.logitLens().kl()[L], "kl[L] = 0");
            assertEquals(1.0, got.logitLens().top1Agreement()[L], "top1_agreement[L] = 1");
        }
    }

    /**
     * Removing both sublayers of a Pre-LN (or LNS) block is removing the block: its output is its input, bit for
     * bit, so the branch continues exactly like loss_without_layer's.
     */
    @ParameterizedTest(name = "tiny-curse-24/{0}")
    @ValueSource(strings = {"pre_ln", "lns"})
    void zeroingBothSublayersIsRemovingTheBlock(String dir) {
        try (Model m = Model.open(Fixtures.tinyCurse().resolve(dir), Architecture.LnsMode.AUTO)) {
            Batch batch = Batch.of(TinyCurse.windows(2, 64));
            RopeTables rope = m.ropeTables(batch.seqLen());
            INDArray x = m.embed(batch.ids());
            WeightPool pool = m.newPool();
            for (int j = 0; j < m.arch().layers(); j++) {
                BlockWeights w = m.loadBlock(j, pool);
                List<INDArray> out = BlockForward.forwardAll(m.arch(), w, List.of(x, x, x),
                        Arrays.asList(null, EnumSet.allOf(Sublayer.class), EnumSet.of(Sublayer.MLP)), batch.batch(), batch.seqLen(),
                        rope, Arrays.asList(null, null, null));
                assertArrayEquals(x.data().asFloat(), out.get(1).data().asFloat(), "block " + j + " with both sublayers zeroed");
                assertFalse(Arrays.equals(x.data().asFloat(), out.get(2).data().asFloat()), "block " + j + " with its attention kept");
                x = out.get(0);
            }
        }
    }

    /** The MoE and MLA fixtures, and every family whose block form differs from Llama's (sandwich, output-norm, parallel). */
    static java.util.stream.Stream<String> everyProbeFixtures() {
        return java.util.stream.Stream.concat(java.util.stream.Stream.of("mixtral", "qwen2_moe", "deepseek_v2_lite", "deepseek_v3"),
                org.depthlens.FixtureSet.litgpt());
    }

    /**
     * Mixture-of-experts and latent-attention blocks (HF fixtures), and the other block forms (LitGPT fixtures): every probe family runs in the analysis pass,
     * the lens at x[L] is the model, zeroing both sublayers of a block returns its input bit for bit, and the
     * Jacobian deviations and sublayer losses are finite numbers that differ from the full model's.
     */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("everyProbeFixtures")
    void moeAndMlaFixturesRunEveryProbe(String fixture) {
        Path dir = Fixtures.dir(fixture);
        List<int[]> windows = Fixtures.windows(fixture);
        try (Model m = Model.open(dir.resolve("model"), Architecture.LnsMode.AUTO)) {
            Metrics got = new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30, Analyzer.DepthProbes.ALL), Progress.NONE)
                    .run(windows).metrics();
            int L = got.blocks();
            assertEquals(got.loss(), got.logitLens().loss()[L], 1e-6 * got.loss(), fixture + ": logit_lens.loss[L] = loss");
            assertEquals(0.0, got.logitLens().kl()[L], fixture + ": kl[L]");
            assertEquals(1.0, got.logitLens().top1Agreement()[L], fixture + ": top1_agreement[L]");
            for (int l = 0; l < L; l++) {
                assertTrue(got.jacobianDeviation()[l] > 0 && Double.isFinite(got.jacobianDeviation()[l]), fixture + " jacobian " + l);
                assertTrue(Double.isFinite(got.lossWithoutAttention()[l]) && got.lossWithoutAttention()[l] != got.loss(), fixture);
                assertTrue(Double.isFinite(got.lossWithoutMlp()[l]) && got.lossWithoutMlp()[l] != got.loss(), fixture);
            }
            Batch batch = Batch.of(windows);
            RopeTables rope = m.ropeTables(batch.seqLen());
            INDArray x = m.embed(batch.ids());
            WeightPool pool = m.newPool();
            for (int j = 0; j < L; j++) {
                List<INDArray> out = BlockForward.forwardAll(m.arch(), m.loadBlock(j, pool), List.of(x, x),
                        Arrays.asList(null, EnumSet.allOf(Sublayer.class)), batch.batch(), batch.seqLen(), rope, Arrays.asList(null, null));
                assertArrayEquals(x.data().asFloat(), out.get(1).data().asFloat(), fixture + " block " + j + " with both sublayers zeroed");
                x = out.get(0);
            }
        }
    }

    /**
     * top1_agreement: within 1e-4 relative, up to the positions whose two largest logits are within 1e-5
     * relative at depth l or at depth L (the reference counts them; float32 may order those either way).
     */
    static String top1(JsonNode want, double[] got, List<String> bad) {
        JsonNode amb = want.get("diagnostics").get("top1_ambiguous_positions_per_depth");
        double positions = want.get("diagnostics").get("positions").asDouble();
        JsonNode ref = want.get("logit_lens").get("top1_agreement");
        int last = ref.size() - 1;
        double worst = 0;
        for (int l = 0; l <= last; l++) {
            double slack = (amb.get(l).asInt() + (l == last ? 0 : amb.get(last).asInt())) / positions;
            double w = ref.get(l).asDouble(), err = Math.abs(got[l] - w);
            worst = Math.max(worst, err / w);
            if (!(err <= slack + 1e-4 * w)) bad.add("top1_agreement[" + l + "] " + got[l] + " vs " + w);
        }
        return String.format(" top1_agreement %.1e", worst);
    }

    /** |got - want| <= rel |want| + abs for every entry; returns the worst relative error as text. */
    static String check(JsonNode want, double[] got, double rel, double abs, String name, List<String> bad) {
        double worst = 0;
        for (int i = 0; i < want.size(); i++) {
            double w = want.get(i).asDouble(), err = Math.abs(got[i] - w), bound = rel * Math.abs(w) + abs;
            if (w != 0) worst = Math.max(worst, err / Math.abs(w));
            if (!(err <= bound)) bad.add(name + "[" + i + "] " + got[i] + " vs " + w);
        }
        return String.format(" %s %.1e", name, worst);
    }
}
