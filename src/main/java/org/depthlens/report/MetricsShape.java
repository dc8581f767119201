package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.probe.Metrics;

/**
 * Checks that a {@link ModelResult} has the shapes of shared/docs/metrics.md before anything is
 * written: a report drawn from arrays of the wrong length would silently plot wrong depths.
 */
final class MetricsShape {
    private MetricsShape() {}

    static void check(ModelResult r) {
        String who = "model '" + r.label() + "'";
        Metrics m = r.metrics();
        if (m == null) {
            throw new IllegalArgumentException(who + ": metrics is null");
        }
        int L = m.blocks();
        if (L < 1) {
            throw new IllegalArgumentException(who + ": blocks = " + L + ", expected >= 1");
        }
        triangle(who, "angular_all", m.angularAll(), L);
        triangle(who, "angular_last", m.angularLast(), L);
        length(who, "block_influence", m.blockInfluence(), L);
        length(who, "variance", m.variance(), L + 1);
        length(who, "token_variance", m.tokenVariance(), L + 1);
        length(who, "rms", m.rms(), L + 1);
        length(who, "update_ratio", m.updateRatio(), L);
        if (m.lossWithoutLayer() != null) {
            length(who, "loss_without_layer", m.lossWithoutLayer(), L);
        }
        if (m.logitLens() != null) {
            length(who, "logit_lens.loss", m.logitLens().loss(), L + 1);
            length(who, "logit_lens.kl", m.logitLens().kl(), L + 1);
            length(who, "logit_lens.top1_agreement", m.logitLens().top1Agreement(), L + 1);
        }
        for (String k : new String[] {"jacobian_deviation", "loss_without_attention", "loss_without_mlp"}) {
            double[] a = switch (k) {
                case "jacobian_deviation" -> m.jacobianDeviation();
                case "loss_without_attention" -> m.lossWithoutAttention();
                default -> m.lossWithoutMlp();
            };
            if (a != null) {
                length(who, k, a, L);
            }
        }
        if (r.prunedRemoval() != null) {
            for (PrunedRemoval p : r.prunedRemoval()) {
                if (p == null || p.n() < 1 || p.start() < 0 || p.start() + p.n() > L) {
                    throw new IllegalArgumentException(who + ": pruned_removal entry " + p
                            + " is outside blocks 0.." + (L - 1));
                }
            }
        }
        if (r.expertUsage() != null && r.expertUsage().size() != L) {
            throw new IllegalArgumentException(who + ": expert_usage has " + r.expertUsage().size()
                    + " blocks, expected " + L);
        }
    }

    private static void length(String who, String name, double[] a, int expected) {
        if (a == null) {
            throw new IllegalArgumentException(who + ": " + name + " is null");
        }
        if (a.length != expected) {
            throw new IllegalArgumentException(who + ": " + name + " has " + a.length
                    + " entries, expected " + expected);
        }
    }

    private static void triangle(String who, String name, double[][] t, int L) {
        if (t == null) {
            throw new IllegalArgumentException(who + ": " + name + " is null");
        }
        if (t.length != L) {
            throw new IllegalArgumentException(who + ": " + name + " has " + t.length
                    + " rows, expected " + L);
        }
        for (int l = 0; l < L; l++) {
            if (t[l] == null || t[l].length != L - l) {
                throw new IllegalArgumentException(who + ": " + name + " row " + l + " has "
                        + (t[l] == null ? "null" : t[l].length + " entries") + ", expected " + (L - l));
            }
        }
    }
}
