package org.depthlens.report;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.analysis.Analyzer;
import org.depthlens.analysis.ModelResult;
import org.depthlens.model.Model;
import org.depthlens.model.family.Architecture;
import org.depthlens.stats.Band;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The report of a real two-model analysis with intervals (tiny-curse-24 Pre-LN and LNS, 8 windows of 32 tokens):
 * the score-vs-damage table and scatter, the growth fits side by side, paired intervals on the comparison's
 * differences flagged only when they exclude zero, and the pruning table's paired interval.
 */
class StatsReportTest {
    static List<ModelResult> results = new ArrayList<>();
    static Path dir;
    static String html;

    @BeforeAll
    static void run() throws IOException {
        List<int[]> windows = TinyCurse.windows(8, 32);
        for (String name : List.of("pre_ln", "lns")) {
            try (Model m = Model.open(Fixtures.tinyCurse().resolve(name), Architecture.LnsMode.AUTO)) {
                Analyzer.Outcome o = new Analyzer(m, new Analyzer.Options(true, 2, 1L << 30, Analyzer.DepthProbes.ALL),
                        Progress.NONE).run(windows);
                results.add(new ModelResult(name, "llama", name.equals("lns"), o.metrics(), o.pruned(), o.expertUsage(), null));
            }
        }
        dir = Files.createTempDirectory("depthlens-stats-report");
        html = Files.readString(ReportWriter.writeAll(results, dir.resolve("report")).reportHtml());
    }

    @AfterAll
    static void clean() {
        if (System.getProperty("depthlens.keepReport") == null) SharedReport.deleteTree(dir);
        else System.err.println("StatsReportTest: report kept in " + dir);
    }

    static ReportModel model(int i) {
        return new ReportModel(i, results.get(i).label(), results.get(i).label(), "model-" + i, Palette.model(i), results.get(i));
    }

    @Test
    void showsTheScoreVsDamageTableWithAScatterPerModel() {
        assertTrue(html.contains("id=\"stats-damage\""));
        for (String s : List.of("block_influence", "angular_all_n1", "angular_last_n1", "update_ratio", "jacobian_deviation",
                "logit_lens_kl_drop")) {
            var c = results.get(0).metrics().uncertainty().scoreVsDamage().get(s);
            assertNotNull(c, s);
            assertTrue(html.contains(Fmt.num(c.spearman()) + " [" + Fmt.num(c.lo()) + ", " + Fmt.num(c.hi()) + "]"), s);
        }
        for (ModelResult r : results) assertTrue(Files.isRegularFile(dir.resolve("report").resolve(r.label()).resolve("charts/score_vs_damage.png")));
    }

    @Test
    void showsTheGrowthFitsOfBothModels() {
        assertTrue(html.contains("id=\"stats-growth\""));
        for (String f : List.of("linear: v = a + b l", "power: v = a l^b", "exponential: v = a e^(b l)", "smallest rmse_log")) {
            assertTrue(html.contains(f), f);
        }
    }

    @Test
    void differencesCarryPairedIntervalsAndAreFlaggedOnlyWhenTheyExcludeZero() {
        Map<PairedDeltas.Summary, Band> lns = PairedDeltas.of(model(1), model(0));
        assertEquals(PairedDeltas.ALL.size(), lns.size());
        int flagged = 0;
        for (var e : lns.entrySet()) {
            double d = e.getKey().value(model(1)) - e.getKey().value(model(0));
            double lo = e.getValue().lo()[0][0], hi = e.getValue().hi()[0][0];
            assertTrue(lo <= d + 1e-12 * Math.abs(d) && d - 1e-12 * Math.abs(d) <= hi, e.getKey().label() + ": " + d + " outside [" + lo + ", " + hi + "]");
            String cell = PairedDeltas.cell(d, e.getValue());
            assertEquals(lo > 0 || hi < 0, cell.startsWith("\u2605"), cell);
            if (cell.startsWith("\u2605")) flagged++;
            assertTrue(html.contains(cell), cell);
        }
        assertTrue(flagged > 0, "the LNS model's loss and variance differ from Pre-LN's beyond the window noise");
        // paired: a model against itself differs by exactly zero on every resample, so nothing is flagged
        for (var e : PairedDeltas.of(model(0), model(0)).entrySet()) {
            assertEquals(0.0, e.getValue().lo()[0][0], 0.0, e.getKey().label());
            assertEquals(0.0, e.getValue().hi()[0][0], 0.0, e.getKey().label());
            assertFalse(PairedDeltas.cell(0.0, e.getValue()).startsWith("\u2605"));
        }
    }

    @Test
    void thePruningTableCarriesThePairedInterval() {
        assertTrue(html.contains("95 % interval (paired)"));
        Band b = results.get(0).metrics().uncertainty().ci95().get("pruned_removal.damage");
        assertEquals(results.get(0).prunedRemoval().size(), b.lo0().length);
        assertTrue(html.contains("[" + Fmt.signed(b.lo0()[0]) + ", " + Fmt.signed(b.hi0()[0]) + "]"));
    }

    @Test
    void theSublayerBarsGetWhiskersOnTheirBars() {
        assertNotNull(Charts.band(model(0), "damage_attention"));
        assertNotNull(Charts.band(model(0), "damage_mlp"));
        assertTrue(Files.isRegularFile(dir.resolve("report/pre_ln/charts/sublayer_removal.png")));
        // two series of 24 blocks on a 1000-px plot, content 0.9, fill 0.8: slot 37.5 px, bars 15 px from 3.75 px in
        assertEquals(50 + 3.75 + 7.5, BarWhiskers.centre(0, 1000, 24, 0, 0, 2, 0.9, 0.8), 1e-9);
        assertEquals(50 + 37.5 * 23 + 3.75 + 15 + 7.5, BarWhiskers.centre(100, 1000 + 100, 24, 23, 1, 2, 0.9, 0.8) - 100, 1e-9);
    }

    @Test
    void lineChartsGetTheirMetricsBands() {
        ReportModel m = model(0);
        for (String key : List.of("variance", "token_variance", "rms", "block_influence", "update_ratio", "damage",
                "jacobian_deviation", "logit_lens.kl")) {
            double[][] band = Charts.band(m, key);
            assertNotNull(band, key);
            assertTrue(band[0].length > 0 && band[0].length == band[1].length, key);
        }
    }
}
