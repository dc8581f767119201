package org.depthlens.analysis;

import org.depthlens.model.Sublayer;
import org.depthlens.pass.Branch;
import org.depthlens.pass.Passes;
import org.depthlens.pass.Sequence;
import org.depthlens.probe.JacobianSums;
import org.depthlens.probe.LastTokenAngles;
import org.depthlens.probe.LensSums;
import org.depthlens.probe.Metrics;
import org.depthlens.probe.ProbeSums;
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
    static Uncertainty of(List<Sequence> seqs, Passes.Outcome o, Analyzer.Options options, Metrics metrics, int resamples, long seed) {
        WindowTable t = table(seqs, o, options, metrics.blocks());
        int layers = metrics.blocks();
        Map<String, Double> rho = new LinkedHashMap<>();
        boolean damage = t.metrics().containsKey("damage");
        if (damage) {
            double[] dmg = new double[layers];
            for (int l = 0; l < layers; l++) dmg[l] = metrics.lossWithoutLayer()[l] - metrics.loss();
            for (var e : DamageScores.SCORES.entrySet()) {
                double[] score = e.getValue().apply(metrics);
                String key = e.getKey();
                Bootstrap.Statistic st = scoreStatistic(t, key, layers);
                if (score == null || st == null) continue;
                rho.put(key, Spearman.rho(score, dmg));
                Bootstrap.Statistic dm = t.metrics().get("damage").statistic();
                t.metric("score_vs_damage." + key, 0, new int[] {1}, s -> new double[] {Spearman.rho(st.apply(s), dm.apply(s))});
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
        return new Uncertainty(Bootstrap.METHOD, resamples, seed, t.windows(), windowsSha256(seqs), ci, svd, t);
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

    /** One value per block of score {@code key}, as a statistic of the table, or null when not measured. */
    private static Bootstrap.Statistic scoreStatistic(WindowTable t, String key, int layers) {
        Map<String, WindowTable.Metric> m = t.metrics();
        return switch (key) {
            case "angular_all_n1", "angular_last_n1" -> {
                WindowTable.Metric tri = m.get(key.equals("angular_all_n1") ? "angular_all" : "angular_last");
                if (tri == null) yield null;
                yield s -> {
                    double[] v = tri.statistic().apply(s), out = new double[layers];
                    for (int l = 0; l < layers; l++) out[l] = v[LastTokenAngles.index(layers, l, 1)];
                    return out;
                };
            }
            case "logit_lens_kl_drop" -> m.containsKey("logit_lens.kl") ? s -> DamageScores.klDrop(m.get("logit_lens.kl").statistic().apply(s)) : null;
            default -> m.containsKey(key) ? m.get(key).statistic() : null;
        };
    }

    /** A probe's partials, one per window in window order, as the planner kept them. */
    @SuppressWarnings("unchecked")
    private static <P> List<P> windows(Passes.Outcome o, String probe) {
        return (List<P>) (List<?>) o.perSequence().get(probe);
    }

    /** Every metric of the run as a statistic of per-window sums. */
    static WindowTable table(List<Sequence> seqs, Passes.Outcome o, Analyzer.Options options, int layers) {
        int w = seqs.size();
        WindowTable t = new WindowTable(w);
        ProbeSums.declare(t, windows(o, Analyzer.Probe.NAME));
        if (o.perSequence().containsKey(LogitLensPass.NAME)) LensSums.declare(t, windows(o, LogitLensPass.NAME));
        if (o.perSequence().containsKey(JacobianPass.NAME)) JacobianSums.declare(t, windows(o, JacobianPass.NAME));
        if (o.lastAngles() != null) {
            int pairs = LastTokenAngles.pairs(layers);
            double[][] rows = new double[w][pairs + 1];
            for (int k = 0; k < w; k++) {
                System.arraycopy(o.lastAngles()[k], 0, rows[k], 0, pairs);
                rows[k][pairs] = 1;
            }
            int at = t.columns(rows);
            int[] tri = new int[layers];
            for (int l = 0; l < layers; l++) tri[l] = layers - l;
            t.metric("angular_last", 2, tri, s -> {
                double[] v = new double[pairs];
                for (int i = 0; i < pairs; i++) v[i] = s[at + i] / s[at + pairs];
                return v;
            });
        }
        losses(t, seqs, o, options, layers);
        return t;
    }

    /** loss, the removals' losses, damage = loss_without_layer - loss, and the pruning's, all paired per window. */
    private static void losses(WindowTable t, List<Sequence> seqs, Passes.Outcome o, Analyzer.Options options, int layers) {
        int w = seqs.size();
        Map<String, List<Branch>> groups = new LinkedHashMap<>();
        if (options.removalSweep()) groups.put("loss_without_layer", branches(layers, Branch::without));
        if (options.probes().sublayerRemoval()) {
            groups.put("loss_without_attention", branches(layers, l -> Branch.without(l, Sublayer.ATTENTION)));
            groups.put("loss_without_mlp", branches(layers, l -> Branch.without(l, Sublayer.MLP)));
        }
        if (!o.pruning().isEmpty()) groups.put("pruned_removal.loss", List.copyOf(o.pruning()));
        int cols = 2;
        for (List<Branch> g : groups.values()) cols += g.size();
        double[][] rows = new double[w][cols];
        for (int k = 0; k < w; k++) {
            rows[k][0] = seqs.get(k).targets().length;
            rows[k][1] = -o.main()[k];
            int c = 2;
            for (List<Branch> g : groups.values()) for (Branch b : g) rows[k][c++] = -o.loglik().get(b)[k];
        }
        int at = t.columns(rows);
        t.metric("loss", 0, new int[] {1}, s -> new double[] {s[at + 1] / s[at]});
        int c = at + 2;
        for (var e : groups.entrySet()) {
            int from = c, n = e.getValue().size();
            Bootstrap.Statistic st = s -> {
                double[] v = new double[n];
                for (int i = 0; i < n; i++) v[i] = s[from + i] / s[at];
                return v;
            };
            t.metric(e.getKey(), 1, new int[] {n}, st);
            Bootstrap.Statistic diff = s -> {
                double[] v = st.apply(s);
                double base = s[at + 1] / s[at];
                for (int i = 0; i < n; i++) v[i] -= base;
                return v;
            };
            if (e.getKey().equals("loss_without_layer")) t.metric("damage", 1, new int[] {n}, diff);
            if (e.getKey().equals("loss_without_attention")) t.metric("damage_attention", 1, new int[] {n}, diff);
            if (e.getKey().equals("loss_without_mlp")) t.metric("damage_mlp", 1, new int[] {n}, diff);
            if (e.getKey().equals("pruned_removal.loss")) t.metric("pruned_removal.damage", 1, new int[] {n}, diff);
            c += n;
        }
    }

    private static List<Branch> branches(int layers, java.util.function.IntFunction<Branch> b) {
        return java.util.stream.IntStream.range(0, layers).mapToObj(b).toList();
    }
}
