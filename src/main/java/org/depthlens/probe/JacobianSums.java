package org.depthlens.probe;

import org.depthlens.stats.WindowTable;

import java.io.Serializable;
import java.util.List;

/**
 * Mergeable partial sums of jacobian_deviation: per block, the sum of the windows' values and the windows (one
 * window's, or windows' added up in window order).
 */
public final class JacobianSums implements Serializable {
    private static final long serialVersionUID = 1L;

    private final double[] sum;
    private final long[] windows;

    public JacobianSums(int layers) {
        sum = new double[layers];
        windows = new long[layers];
    }

    /** Adds block {@code l}'s deviations of {@code count} windows, summed. */
    public void add(int l, double deviationSum, long count) {
        sum[l] += deviationSum;
        windows[l] += count;
    }

    /** Adds {@code o} into this ({@code o} is not modified). */
    public JacobianSums merge(JacobianSums o) {
        for (int l = 0; l < sum.length; l++) {
            sum[l] += o.sum[l];
            windows[l] += o.windows[l];
        }
        return this;
    }

    public double[] finish() {
        double[] out = new double[sum.length];
        for (int l = 0; l < out.length; l++) out[l] = sum[l] / windows[l];
        return out;
    }

    /**
     * Adds the per-window sums of {@code windows} (one partial per window, in window order) and the metric
     * jacobian_deviation (sum of the windows' deviations / windows) to a bootstrap table.
     */
    public static void declare(WindowTable table, List<JacobianSums> windows) {
        int L = windows.get(0).sum.length;
        double[][] rows = new double[windows.size()][2 * L];
        for (int k = 0; k < rows.length; k++) {
            for (int l = 0; l < L; l++) {
                rows[k][l] = windows.get(k).sum[l];
                rows[k][L + l] = windows.get(k).windows[l];
            }
        }
        int o = table.columns(rows);
        table.metric("jacobian_deviation", 1, new int[] {L}, s -> {
            double[] v = new double[L];
            for (int l = 0; l < L; l++) v[l] = s[o + l] / s[o + L + l];
            return v;
        });
    }
}
