package org.depthlens.stats;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One model's per-window sums side by side ({@code [window][column]}, windows in run order) and the metrics they
 * define: each metric is a {@link Bootstrap.Statistic} of the column totals with its shape. The point value of a
 * metric is its statistic on all windows; {@link #uncertainty} resamples windows for intervals, and
 * {@link #paired} resamples the same windows of two models for intervals of their differences.
 */
public final class WindowTable {
    /** A metric of the table: its statistic and the lengths of the rows its flat values fill (rank 0: {1}). */
    public record Metric(int rank, int[] rows, Bootstrap.Statistic statistic) {
        int size() {
            int n = 0;
            for (int r : rows) n += r;
            return n;
        }
    }

    private final int windows;
    private final List<double[][]> blocks = new ArrayList<>();
    private int width;
    private final Map<String, Metric> metrics = new LinkedHashMap<>();
    private double[][] rows;

    public WindowTable(int windows) {
        this.windows = windows;
    }

    public int windows() {
        return windows;
    }

    /** Appends columns ({@code [window][column]}, one row per window in run order); returns the first column's index. */
    public int columns(double[][] byWindow) {
        if (byWindow.length != windows) throw new IllegalArgumentException(byWindow.length + " windows of sums, expected " + windows);
        int at = width;
        blocks.add(byWindow);
        width += byWindow.length == 0 ? 0 : byWindow[0].length;
        rows = null;
        return at;
    }

    public void metric(String key, int rank, int[] rowLengths, Bootstrap.Statistic statistic) {
        metrics.put(key, new Metric(rank, rowLengths.clone(), statistic));
    }

    public Map<String, Metric> metrics() {
        return metrics;
    }

    /** [window][column]: the blocks put side by side. */
    public double[][] rows() {
        if (rows == null) {
            rows = new double[windows][width];
            int at = 0;
            for (double[][] b : blocks) {
                int w = b.length == 0 ? 0 : b[0].length;
                for (int k = 0; k < windows; k++) System.arraycopy(b[k], 0, rows[k], at, w);
                at += w;
            }
        }
        return rows;
    }

    /** Column totals over all windows, added in window order. */
    public double[] totals() {
        double[] t = new double[width];
        for (double[] r : rows()) for (int c = 0; c < width; c++) t[c] += r[c];
        return t;
    }

    /** The metric's value on all windows. */
    public double[] value(String key) {
        return metrics.get(key).statistic().apply(totals());
    }

    /** Every metric's 95 % interval from {@code resamples} resamples of the windows drawn with {@code seed}. */
    public Map<String, Band> intervals(int resamples, long seed) {
        return intervals(Bootstrap.indices(windows, resamples, seed));
    }

    /** The same with the resampling indices given ({@code [r][k]}, window indices 0..W-1). */
    public Map<String, Band> intervals(int[][] indices) {
        List<String> keys = new ArrayList<>(metrics.keySet());
        Bootstrap.Statistic[] st = new Bootstrap.Statistic[keys.size()];
        for (int i = 0; i < st.length; i++) st[i] = metrics.get(keys.get(i)).statistic();
        double[][][] rep = Bootstrap.replicate(rows(), indices, st);
        Map<String, Band> out = new LinkedHashMap<>();
        for (int i = 0; i < st.length; i++) out.put(keys.get(i), band(metrics.get(keys.get(i)), Bootstrap.interval(rep[i])));
        return out;
    }

    /**
     * Intervals of {@code a}'s metric minus {@code b}'s, for every key both have with the same shape, resampling the
     * same windows on both sides (the two models must have been run on the same windows).
     */
    public static Map<String, Band> paired(WindowTable a, WindowTable b, int resamples, long seed) {
        return paired(a, b, Bootstrap.indices(a.windows, resamples, seed));
    }

    /** The same with the resampling indices given. */
    public static Map<String, Band> paired(WindowTable a, WindowTable b, int[][] indices) {
        if (a.windows != b.windows) throw new IllegalArgumentException("paired intervals need the same windows: " + a.windows + " vs " + b.windows);
        WindowTable both = new WindowTable(a.windows);
        int offA = both.columns(a.rows()), offB = both.columns(b.rows());
        int wa = a.width;
        for (Map.Entry<String, Metric> e : a.metrics.entrySet()) {
            Metric mb = b.metrics.get(e.getKey());
            Metric ma = e.getValue();
            if (mb == null || !java.util.Arrays.equals(ma.rows, mb.rows)) continue;
            both.metric(e.getKey(), ma.rank, ma.rows, t -> {
                double[] ta = java.util.Arrays.copyOfRange(t, offA, offA + wa);
                double[] tb = java.util.Arrays.copyOfRange(t, offB, t.length);
                double[] va = ma.statistic.apply(ta), vb = mb.statistic.apply(tb);
                double[] d = new double[va.length];
                for (int i = 0; i < d.length; i++) d[i] = va[i] - vb[i];
                return d;
            });
        }
        return both.intervals(indices);
    }

    private static Band band(Metric m, double[][] flat) {
        double[][] lo = new double[m.rows.length][], hi = new double[m.rows.length][];
        int at = 0;
        for (int r = 0; r < m.rows.length; r++) {
            lo[r] = new double[m.rows[r]];
            hi[r] = new double[m.rows[r]];
            for (int j = 0; j < m.rows[r]; j++, at++) {
                lo[r][j] = flat[at][0];
                hi[r][j] = flat[at][1];
            }
        }
        if (at != m.size()) throw new IllegalStateException("statistic size mismatch");
        return new Band(m.rank, lo, hi);
    }
}
