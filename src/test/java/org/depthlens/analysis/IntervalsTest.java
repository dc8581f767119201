package org.depthlens.analysis;

import org.depthlens.Fixtures;
import org.depthlens.TinyCurse;
import org.depthlens.model.Model;
import org.depthlens.model.family.Architecture;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;
import org.depthlens.stats.Band;
import org.depthlens.stats.Spearman;
import org.depthlens.stats.Uncertainty;
import org.depthlens.stats.WindowTable;
import org.depthlens.util.Progress;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The intervals of a real analysis (trained tiny-curse-24 Pre-LN, every probe, pruning): each metric's statistic
 * of window totals is the metric itself, every interval holds its estimate, a rerun is bitwise the same, and other
 * groupings of the windows into batches give the same per-window sums.
 */
class IntervalsTest {
    static Analyzer.Outcome one;
    static List<int[]> windows;
    static final Analyzer.Options OPTIONS = new Analyzer.Options(true, 3, 1L << 30, Analyzer.DepthProbes.ALL);

    @BeforeAll
    static void run() {
        windows = TinyCurse.windows(8, 32);
        one = analyse(OPTIONS);
    }

    static Analyzer.Outcome analyse(Analyzer.Options o) {
        try (Model m = Model.open(Fixtures.tinyCurse().resolve("pre_ln"), Architecture.LnsMode.AUTO)) {
            return new Analyzer(m, o, Progress.NONE).run(windows);
        }
    }

    /** The metric's values as written to metrics.json, flattened like its statistic. */
    static double[] value(Metrics m, List<Double> pruned, String key) {
        double[] dmg = new double[m.blocks()];
        for (int l = 0; l < dmg.length; l++) dmg[l] = m.lossWithoutLayer()[l] - m.loss();
        return switch (key) {
            case "angular_all" -> flat(m.angularAll());
            case "angular_last" -> flat(m.angularLast());
            case "block_influence" -> m.blockInfluence();
            case "variance" -> m.variance();
            case "token_variance" -> m.tokenVariance();
            case "rms" -> m.rms();
            case "update_ratio" -> m.updateRatio();
            case "logit_lens.loss" -> m.logitLens().loss();
            case "logit_lens.kl" -> m.logitLens().kl();
            case "logit_lens.top1_agreement" -> m.logitLens().top1Agreement();
            case "jacobian_deviation" -> m.jacobianDeviation();
            case "loss" -> new double[] {m.loss()};
            case "loss_without_layer" -> m.lossWithoutLayer();
            case "loss_without_attention" -> m.lossWithoutAttention();
            case "loss_without_mlp" -> m.lossWithoutMlp();
            case "damage" -> dmg;
            case "damage_attention" -> minus(m.lossWithoutAttention(), m.loss());
            case "damage_mlp" -> minus(m.lossWithoutMlp(), m.loss());
            case "pruned_removal.loss" -> pruned.stream().mapToDouble(Double::doubleValue).toArray();
            case "pruned_removal.damage" -> pruned.stream().mapToDouble(v -> v - m.loss()).toArray();
            default -> {
                // a metric registered later: its values as the analysis finished them (the statistic is another path)
                MetricSpec s = MetricRegistry.of(key);
                if (s == null || s.rows(m) == null) throw new AssertionError("no value for " + key);
                yield flat(s.rows(m));
            }
        };
    }

    static double[] minus(double[] v, double c) {
        return java.util.Arrays.stream(v).map(x -> x - c).toArray();
    }

    static double[] flat(double[][] t) {
        return java.util.Arrays.stream(t).flatMapToDouble(java.util.Arrays::stream).toArray();
    }

    static double[] flat(Band b, boolean hi) {
        return flat(hi ? b.hi() : b.lo());
    }

    @Test
    void everyStatisticIsItsMetricAndEveryIntervalHoldsIt() {
        Metrics m = one.metrics();
        Uncertainty u = m.uncertainty();
        assertNotNull(u);
        assertEquals(8, u.windows());
        assertEquals(1000, u.resamples());
        List<Double> pruned = one.pruned().stream().map(p -> p.loss()).toList();
        WindowTable t = u.table();
        List<String> keys = new java.util.ArrayList<>(List.of("pruned_removal.loss", "pruned_removal.damage"));
        for (MetricSpec s : MetricRegistry.METRICS) keys.add(s.key()); // intervals apply to every registered metric
        assertEquals(keys.size(), u.ci95().size(), "keys " + u.ci95().keySet());
        for (String key : keys) {
            double[] want = value(m, pruned, key), got = t.value(key);
            assertEquals(want.length, got.length, key);
            Band b = u.ci95().get(key);
            assertNotNull(b, key);
            double[] lo = flat(b, false), hi = flat(b, true);
            for (int i = 0; i < want.length; i++) {
                assertEquals(want[i], got[i], 1e-12 * Math.max(1, Math.abs(want[i])), key + "[" + i + "] statistic vs metric");
                double slack = 1e-12 * Math.max(1, Math.abs(want[i]));
                assertTrue(lo[i] <= want[i] + slack && want[i] - slack <= hi[i],
                        key + "[" + i + "] = " + want[i] + " outside [" + lo[i] + ", " + hi[i] + "]");
            }
        }
        for (var e : MetricRegistry.scores().entrySet()) {
            Uncertainty.Correlation c = u.scoreVsDamage().get(e.getKey());
            assertNotNull(c, e.getKey());
            assertEquals(Spearman.rho(e.getValue().apply(m), value(m, pruned, "damage")), c.spearman(), 0.0, e.getKey());
            assertTrue(c.lo() <= c.hi(), e.getKey());
        }
    }

    @Test
    void aRerunAndOtherBatchesGiveTheSameIntervals() {
        Analyzer.Outcome again = analyse(OPTIONS);
        Map<String, Band> a = one.metrics().uncertainty().ci95(), b = again.metrics().uncertainty().ci95();
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertArrayEquals(flat(a.get(k), false), flat(b.get(k), false), 0.0, k);
            assertArrayEquals(flat(a.get(k), true), flat(b.get(k), true), 0.0, k);
        }
        // one or two windows per batch: the per-window sums and their intervals do not depend on the grouping (up to
        // the float32 forward of a window, whose last bits may follow the batch's row count)
        Analyzer.Outcome small = analyse(new Analyzer.Options(true, 3, 1L << 20, Analyzer.DepthProbes.ALL));
        Map<String, Band> c = small.metrics().uncertainty().ci95();
        for (String k : a.keySet()) {
            double[] x = flat(a.get(k), false), y = flat(c.get(k), false);
            for (int i = 0; i < x.length; i++) assertEquals(x[i], y[i], 1e-6 * Math.max(1, Math.abs(x[i])), k + "[" + i + "]");
        }
    }
}
