package org.depthlens.analysis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.depthlens.Fixtures;
import org.depthlens.LnsCode;
import org.depthlens.MetricsAssert;
import org.depthlens.TinyCurse;
import org.depthlens.model.family.Architecture;
import org.depthlens.model.Model;
import org.depthlens.model.family.NormChoice;
import org.depthlens.model.family.NormType;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The analysis pass (probes, the removal sweep with each block replaced by the identity, pruning) on every block
 * normalisation form: loss and loss_without_layer against each lns_code fixture's reference.json (an independent
 * float64 forward of the Curse-of-Depth code), and the trained tiny-curse-24 LNS model as that code saves it.
 */
class NormFormMetricsTest {
    static List<String> fixtures() {
        return LnsCode.FIXTURES;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("fixtures")
    void lossAndRemovalSweepMatchReference(String fixture) {
        NormType type = NormType.parse(LnsCode.normType(fixture));
        JsonNode ref = LnsCode.reference(fixture).get("metrics");
        NormChoice choice = new NormChoice(type.code(), type.usesPostNum() ? LnsCode.postNum(fixture) : null, Architecture.LnsMode.AUTO);
        try (Model m = Model.open(Fixtures.lnsCode(fixture).resolve("model"), choice)) {
            assertEquals(type, m.arch().norm().type());
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 2, 1L << 30), Progress.NONE).run(LnsCode.ids(fixture));
            double worst = rel(ref.get("loss").asDouble(), o.metrics().loss());
            JsonNode without = ref.get("loss_without_layer");
            assertEquals(without.size(), o.metrics().lossWithoutLayer().length);
            for (int l = 0; l < without.size(); l++) worst = Math.max(worst, rel(without.get(l).asDouble(), o.metrics().lossWithoutLayer()[l]));
            System.out.printf("%s: loss and loss_without_layer worst relative error %.2e%n", fixture, worst);
            assertTrue(worst <= 1e-5, fixture + ": worst relative error " + worst);
            // pruning runs on every form: n = 1 removes exactly the block the sweep removed
            PrunedRemoval p1 = o.pruned().get(0);
            assertEquals(o.metrics().lossWithoutLayer()[p1.start()], p1.loss(), 1e-9 * p1.loss());
        }
    }

    private static double rel(double want, double got) {
        return Double.isNaN(got) ? Double.POSITIVE_INFINITY : Math.abs(got - want) / Math.abs(want);
    }

    /**
     * The trained LNS model saved as the code saves it (bf16 .bin, nothing says LNS): with --norm-type LNS every
     * probe and the loss of reference_metrics.json's "lns" (64 windows of 256, as it was computed). The removal
     * sweep, 25 streams per block, is checked on one window below against the bundled safetensors copy, whose
     * sweep TinyCurseMetricsTest checks against the same reference.
     */
    @Test
    void tinyCurseLnsFromTheCodeReproducesReference() {
        ObjectNode ref = TinyCurse.reference().get("lns").deepCopy();
        ref.remove("loss_without_layer");
        try (Model m = Model.open(Fixtures.tinyCurseLnsCode(), new NormChoice("LNS", null, Architecture.LnsMode.AUTO))) {
            assertTrue(m.arch().lns());
            Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(false, 0, 2L << 30), Progress.NONE).run(TinyCurse.windows(64, 256));
            MetricsAssert.assertMatches(ref, o.metrics(), 1e-4, "tiny-curse-24-lns-code/lns --norm-type LNS");
        }
    }

    /**
     * Without a flag the .bin files are analysed as Pre-LN, with a note on stderr: the numbers (removal sweep
     * included) of the bundled safetensors copy of the same weights with LNS forced off, not the LNS ones.
     * (With --lns on / --norm-type LNS they are the LNS numbers: above, and NormFormEvalFoldTest for eval.)
     */
    @Test
    void tinyCurseLnsFromTheCodeWithoutFlagIsPreLnWithNote() {
        List<int[]> windows = TinyCurse.windows(1, 256);
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Analyzer.Outcome detected;
        try {
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            detected = run(Fixtures.tinyCurseLnsCode(), NormChoice.AUTO, windows);
        } finally {
            System.setErr(old);
        }
        String note = err.toString(StandardCharsets.UTF_8);
        assertTrue(note.startsWith("depthlens: note: ") && note.contains("assuming Pre-LN") && note.contains("--lns on"), note);
        assertSameLosses(run(Fixtures.tinyCurse().resolve("lns"), NormChoice.of(Architecture.LnsMode.OFF), windows), detected);
        double lnsLoss = run(Fixtures.tinyCurseLnsCode(), NormChoice.of(Architecture.LnsMode.ON), windows).metrics().loss();
        assertTrue(Math.abs(detected.metrics().loss() - lnsLoss) > 0.05, "the Pre-LN reading differs from the LNS one");
    }

    private static Analyzer.Outcome run(java.nio.file.Path dir, NormChoice choice, List<int[]> windows) {
        try (Model m = Model.open(dir, choice)) {
            return new Analyzer(m, new Analyzer.Options(true, 0, 1L << 30), Progress.NONE).run(windows);
        }
    }

    private static void assertSameLosses(Analyzer.Outcome want, Analyzer.Outcome got) {
        double tol = 1e-6 * want.metrics().loss();
        assertEquals(want.metrics().loss(), got.metrics().loss(), tol);
        for (int l = 0; l < want.metrics().lossWithoutLayer().length; l++) {
            assertEquals(want.metrics().lossWithoutLayer()[l], got.metrics().lossWithoutLayer()[l], tol, "loss_without_layer[" + l + "]");
        }
    }
}
