package org.depthlens.probe;

import java.util.function.Function;

/**
 * How one metric is presented, declared once next to the probe that measures it (docs/design.md, "The metric
 * registry"): its key (in metrics.json, in {@code uncertainty.ci95} and in the bootstrap's per-window statistics),
 * shape, unit, glossary line, per_block.csv column and default line chart. The registry of the analysis lists
 * every probe's specs in metrics.json's key order; the shape checks, metrics.json's writer and reader,
 * per_block.csv (values and {@code _lo}/{@code _hi} columns), the report's glossary, its charts and bands are
 * driven by that list.
 *
 * @param key       metrics.json key ("logit_lens.kl" is kl inside the logit_lens object)
 * @param shape     its shape for L blocks
 * @param optional  null when its probe did not run (else always present)
 * @param unit      unit of its values
 * @param glossary  the report's one-sentence definition (docs/metrics.md has the exact one)
 * @param csvColumn its per_block.csv column, or null when not in per_block.csv (triangles have their own files)
 * @param chart     its default line chart, or null
 * @param derive    null for a stored metric; for a derived one (computed from stored metrics for the report and
 *                  the intervals, not written to metrics.json), its values as rows, null when absent
 */
public record MetricSpec(String key, Shape shape, boolean optional, String unit, String glossary, String csvColumn, Chart chart,
                         Function<Metrics, double[][]> derive) {

    /** Lengths for a model of L blocks. */
    public enum Shape {
        /** one number */
        SCALAR,
        /** depths 0..L: L+1 values */
        DEPTHS,
        /** blocks 0..L-1: L values */
        BLOCKS,
        /** row l of L-l values, l = 0..L-1 */
        TRIANGLE;

        /** Index suffix of the glossary. */
        String index() {
            return switch (this) {
                case SCALAR -> "";
                case TRIANGLE -> "[l][n-1]";
                default -> "[l]";
            };
        }

        /** The rank of its intervals in {@code uncertainty.ci95}: 0 for a number, 1 for a list, 2 for a triangle. */
        public int rank() {
            return switch (this) {
                case SCALAR -> 0;
                case TRIANGLE -> 2;
                default -> 1;
            };
        }

        /** Row lengths for L blocks. */
        public int[] rows(int blocks) {
            return switch (this) {
                case SCALAR -> new int[] {1};
                case DEPTHS -> new int[] {blocks + 1};
                case BLOCKS -> new int[] {blocks};
                case TRIANGLE -> {
                    int[] r = new int[blocks];
                    for (int l = 0; l < blocks; l++) r[l] = blocks - l;
                    yield r;
                }
            };
        }
    }

    /**
     * A metric's line chart: {@code id} names it in the report's chart files, {@code title} and {@code yAxis} label
     * it, {@code legend} names its line. With {@code auto}, the report draws it by itself (per model on a linear and
     * a log axis, overlaid in the comparison, with its band); otherwise the report draws it by hand (variance and
     * RMS share charts with companions, the loss increase has a zoom).
     */
    public record Chart(String id, String title, String yAxis, String legend, boolean auto) {
        public Chart(String id, String title, String yAxis, String legend) {
            this(id, title, yAxis, legend, false);
        }
    }

    /** A metric always measured, stored in metrics.json. */
    public static MetricSpec stored(String key, Shape shape, String unit, String glossary, String csvColumn, Chart chart) {
        return new MetricSpec(key, shape, false, unit, glossary, csvColumn, chart, null);
    }

    /** A metric whose probe may be switched off (then null), stored in metrics.json. */
    public static MetricSpec optional(String key, Shape shape, String unit, String glossary, String csvColumn, Chart chart) {
        return new MetricSpec(key, shape, true, unit, glossary, csvColumn, chart, null);
    }

    /** A vector metric derived from stored ones for the report and intervals, not stored. */
    public static MetricSpec derived(String key, Shape shape, String unit, String glossary, String csvColumn, Chart chart,
                                     Function<Metrics, double[]> of) {
        return new MetricSpec(key, shape, true, unit, glossary, csvColumn, chart, m -> {
            double[] v = of.apply(m);
            return v == null ? null : new double[][] {v};
        });
    }

    public boolean isDerived() {
        return derive != null;
    }

    /** Its values in {@code m} as rows (a number or a vector is one row, a triangle one row per l), or null when absent. */
    public double[][] rows(Metrics m) {
        return derive != null ? derive.apply(m) : m.rows(key);
    }

    /** The metric's values of {@code m} as one vector (a vector metric), or null when absent. */
    public double[] vector(Metrics m) {
        double[][] r = rows(m);
        return r == null ? null : r[0];
    }

    /** "block_influence[l]", "angular_all[l][n-1]": the glossary's name of the metric. */
    public String indexed() {
        return key + shape.index();
    }

    /** {@code v[l] - loss}: a loss increase against the full model's loss. */
    public static double[] minusLoss(double[] v, Metrics m) {
        if (v == null) return null;
        double[] d = new double[v.length];
        for (int l = 0; l < d.length; l++) d[l] = v[l] - m.loss();
        return d;
    }
}
