package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;

/**
 * Checks that a {@link ModelResult} has the shapes of docs/metrics.md (as {@link MetricRegistry#METRICS} declares them)
 * before anything is written: a report drawn from arrays of the wrong length would silently plot wrong depths.
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
        for (MetricSpec s : MetricRegistry.METRICS) {
            if (s.isDerived()) continue;
            double[][] rows = s.rows(m);
            if (rows == null && s.optional()) continue;
            if (s.shape() == MetricSpec.Shape.TRIANGLE) {
                triangle(who, s.key(), rows, L);
            } else {
                length(who, s.key(), rows == null ? null : rows[0], s.shape().rows(L)[0]);
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
