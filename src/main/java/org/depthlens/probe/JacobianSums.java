package org.depthlens.probe;

import org.depthlens.stats.WindowSums;
import org.depthlens.stats.WindowTable;

import java.io.Serializable;

/**
 * Mergeable partial sums of jacobian_deviation, per window ({@link WindowSums}): each block's deviation on that
 * window (L values) and the window count (1). The metric is the mean over windows.
 */
public final class JacobianSums implements Serializable {
    private static final long serialVersionUID = 2L;

    private final int layers;
    private WindowSums windows;

    public JacobianSums(int layers) {
        this.layers = layers;
        windows = new WindowSums(layers + 1);
    }

    /** Sets block {@code l}'s deviation on window {@code window} (the run's index of the sequence). */
    public void add(int l, int window, double deviation) {
        double[] row = windows.row(window);
        row[l] = deviation;
        row[layers] = 1;
    }

    /** These sums with window k renamed {@code ids[k]}. */
    public JacobianSums relabel(int[] ids) {
        JacobianSums out = new JacobianSums(layers);
        out.windows = windows.relabel(ids);
        return out;
    }

    /** Places {@code o}'s windows next to these. */
    public JacobianSums merge(JacobianSums o) {
        windows.merge(o.windows);
        return this;
    }

    public double[] finish() {
        return mean(windows.total(), 0);
    }

    private double[] mean(double[] t, int o) {
        double[] out = new double[layers];
        for (int l = 0; l < layers; l++) out[l] = t[o + l] / t[o + layers];
        return out;
    }

    /** Adds the columns and the metric jacobian_deviation to a bootstrap table. */
    public void declare(WindowTable table) {
        int o = table.columns(windows.matrix());
        table.metric("jacobian_deviation", 1, new int[] {layers}, s -> mean(s, o));
    }
}
