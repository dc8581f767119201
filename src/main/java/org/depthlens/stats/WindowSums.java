package org.depthlens.stats;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * Partial sums kept per window (docs/metrics.md, "Uncertainty"): one row of {@code width} doubles for each window
 * of the run, keyed by the window's index. A group of windows fills the rows of its own windows; merging parts
 * of a run only places rows (every window in exactly one part), so the result does not depend on how windows were
 * batched, threaded or distributed. Totals are summed in window order. The bootstrap resamples these rows.
 */
public final class WindowSums implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int width;
    private final TreeMap<Integer, double[]> rows = new TreeMap<>();

    public WindowSums(int width) {
        this.width = width;
    }

    public int width() {
        return width;
    }

    public int windows() {
        return rows.size();
    }

    /** The row of {@code window}, created as zeros on first use (the caller adds into it). */
    public double[] row(int window) {
        return rows.computeIfAbsent(window, w -> new double[width]);
    }

    /** Places {@code o}'s rows next to these; a window in both is an error (each window is measured once). */
    public WindowSums merge(WindowSums o) {
        if (o.width != width) throw new IllegalArgumentException("cannot merge window sums of width " + o.width + " into " + width);
        for (Map.Entry<Integer, double[]> e : o.rows.entrySet()) {
            if (rows.putIfAbsent(e.getKey(), e.getValue()) != null) throw new IllegalArgumentException("window " + e.getKey() + " is in two parts");
        }
        return this;
    }

    /** These rows with window k renamed {@code ids[k]} (a group run on its own numbers its windows 0..n-1). */
    public WindowSums relabel(int[] ids) {
        WindowSums out = new WindowSums(width);
        for (Map.Entry<Integer, double[]> e : rows.entrySet()) {
            if (out.rows.put(ids[e.getKey()], e.getValue()) != null) throw new IllegalArgumentException("window ids repeat");
        }
        return out;
    }

    /** Column sums over all windows, added in window order. */
    public double[] total() {
        double[] t = new double[width];
        for (double[] r : rows.values()) for (int c = 0; c < width; c++) t[c] += r[c];
        return t;
    }

    /** The rows in window order ({@code [window][column]}, not copied). */
    public double[][] matrix() {
        return rows.values().toArray(new double[0][]);
    }
}
