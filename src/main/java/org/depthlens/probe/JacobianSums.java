package org.depthlens.probe;

import java.io.Serializable;

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
}
