package org.depthlens.analysis;

import org.depthlens.pass.Branch;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.Metrics;
import org.depthlens.stats.Band;
import org.depthlens.stats.Bootstrap;
import org.depthlens.stats.Spearman;
import org.depthlens.stats.Uncertainty;
import org.depthlens.stats.WindowTable;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The intervals of an analysis (docs/metrics.md, "Uncertainty"): every metric's per-window sums side by side in one
 * {@link WindowTable}, resampled by window, and Spearman's rho of each cheap score against the damage of removing
 * the block, on the same resamples.
 */
final class Intervals {
    private Intervals() {}

    /** The uncertainty of {@code metrics}, computed on the table of this run's per-window sums. */
    static Uncertainty of(MetricSource.Run run, Analyzer.Options options, Metrics metrics, int resamples, long seed) {
        WindowTable t = table(run, options);
        int layers = metrics.blocks();
        Map<String, Double> rho = new LinkedHashMap<>();
        WindowTable.Metric damage = t.metrics().get("damage");
        if (damage != null) {
            double[] dmg = MetricRegistry.of("damage").vector(metrics);
            Map<String, java.util.function.Function<Metrics, double[]>> values = MetricRegistry.scores();
            for (MetricSource.Score sc : MetricRegistry.SCORES) {
                double[] score = values.get(sc.key()).apply(metrics);
                WindowTable.Metric of = t.metrics().get(sc.metric());
                if (score == null || of == null) continue;
                rho.put(sc.key(), Spearman.rho(score, dmg));
                t.metric("score_vs_damage." + sc.key(), 0, new int[] {1},
                        s -> new double[] {Spearman.rho(sc.of(of.statistic().apply(s), layers), damage.statistic().apply(s))});
            }
        }
        Map<String, Band> all = t.intervals(resamples, seed);
        Map<String, Band> ci = new LinkedHashMap<>();
        Map<String, Uncertainty.Correlation> svd = new LinkedHashMap<>();
        all.forEach((k, b) -> {
            if (k.startsWith("score_vs_damage.")) {
                String s = k.substring("score_vs_damage.".length());
                svd.put(s, new Uncertainty.Correlation(rho.get(s), b.lo()[0][0], b.hi()[0][0]));
            } else {
                ci.put(k, b);
            }
        });
        return new Uncertainty(Bootstrap.METHOD, resamples, seed, t.windows(), windowsSha256(run.seqs()), ci, svd, t);
    }

    /** SHA-256 of the windows' token ids (length, then ids, as 32-bit big-endian ints), in window order. */
    static String windowsSha256(List<Sequence> seqs) {
        java.security.MessageDigest md;
        try {
            md = java.security.MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        for (Sequence s : seqs) {
            java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * (s.ids().length + 1));
            b.putInt(s.ids().length);
            for (int id : s.ids()) b.putInt(id);
            md.update(b.array());
        }
        return java.util.HexFormat.of().formatHex(md.digest());
    }

    /** Every metric of the run as a statistic of per-window sums: each probe's that ran, then the pruning's. */
    static WindowTable table(MetricSource.Run run, Analyzer.Options options) {
        WindowTable t = new WindowTable(run.seqs().size());
        for (MetricSource s : MetricRegistry.SOURCES) if (s.enabled(options)) s.declare(t, run);
        List<Branch.Skip> pruning = run.outcome().pruning();
        if (!pruning.isEmpty()) {
            var st = run.lossStatistic(t, i -> pruning.get(i), pruning.size());
            int[] rows = {pruning.size()};
            t.metric("pruned_removal.loss", 1, rows, st);
            t.metric("pruned_removal.damage", 1, rows, MetricSource.Run.minusLoss(t, st));
        }
        return t;
    }
}
