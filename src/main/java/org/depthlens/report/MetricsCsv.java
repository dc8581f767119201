package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;
import org.depthlens.stats.Band;
import org.depthlens.stats.Uncertainty;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.io.csv.CsvWriteOptions;

import java.io.IOException;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The CSV tables of one model, built with Tablesaw.
 *
 * <p>Numbers are written with {@link Double#toString(double)}, which parses back to the same
 * double. An empty cell means "does not exist" (a block column at depth L, a triangle cell with
 * l+n &gt; L, loss columns when the removal sweep was not run) or a NaN value. Line ends are
 * {@code "\n"}.
 *
 * <ul>
 *   <li>{@code per_block.csv}: one row per depth l = 0..L. {@code variance, token_variance, rms}
 *       describe the stream x[l]; {@code block_influence, update_ratio, loss_without_layer,
 *       loss_drop} describe block l, whose input is x[l] (empty at l = L).
 *       {@code loss_drop = loss_without_layer - loss}. Then the probes of issue 14, empty when
 *       switched off: {@code logit_lens_loss, logit_lens_kl, logit_lens_top1_agreement} (depth l,
 *       every row) and {@code jacobian_deviation, loss_without_attention, loss_without_mlp} (block l,
 *       empty at l = L).</li>
 *   <li>{@code angular_all.csv}, {@code angular_last.csv}: column {@code l} then one column per
 *       n = 1..L named {@code n=<n>}; cell (l, n) is the angular distance between x[l] and x[l+n].</li>
 * </ul>
 * With intervals (docs/metrics.md, "Uncertainty"), every interval column {@code C} of per_block.csv is followed,
 * after all the value columns, by {@code C_lo} and {@code C_hi} ({@code loss_drop}'s are those of {@code damage}),
 * and the triangles by {@code n=<n>_lo, n=<n>_hi}.
 */
public final class MetricsCsv {
    public static final String PER_BLOCK = "per_block.csv";
    public static final String ANGULAR_ALL = "angular_all.csv";
    public static final String ANGULAR_LAST = "angular_last.csv";

    private MetricsCsv() {}

    /** Writes the three CSV files into {@code dir}. */
    public static void writeAll(ModelResult r, Path dir) throws IOException {
        MetricsShape.check(r);
        write(perBlock(r), dir.resolve(PER_BLOCK));
        Uncertainty u = r.metrics().uncertainty();
        write(triangle("angular_all", r.metrics().angularAll(), u == null ? null : u.ci95().get("angular_all")), dir.resolve(ANGULAR_ALL));
        write(triangle("angular_last", r.metrics().angularLast(), u == null ? null : u.ci95().get("angular_last")), dir.resolve(ANGULAR_LAST));
    }

    /** The per-depth table (columns {@code depth, variance, token_variance, rms, block_influence,
     * update_ratio, loss_without_layer, loss_drop, logit_lens_loss, logit_lens_kl,
     * logit_lens_top1_agreement, jacobian_deviation, loss_without_attention, loss_without_mlp}). */
    public static Table perBlock(ModelResult r) {
        Metrics m = r.metrics();
        int L = m.blocks();
        Table t = Table.create("per_block", IntColumn.create("depth", range(L + 1)));
        List<MetricSpec> cols = MetricRegistry.METRICS.stream().filter(s -> s.csvColumn() != null).toList();
        for (MetricSpec s : cols) t.addColumns(bound(s.csvColumn(), s.vector(m), L + 1));
        Uncertainty u = m.uncertainty();
        if (u != null) {
            for (MetricSpec s : cols) {
                Band b = u.ci95().get(s.key());
                if (b == null) continue;
                t.addColumns(bound(s.csvColumn() + "_lo", b.lo0(), L + 1), bound(s.csvColumn() + "_hi", b.hi0(), L + 1));
            }
        }
        return t;
    }

    private static int[] range(int n) {
        int[] a = new int[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return a;
    }

    /** A column over depths 0..L of a metric's values or bounds (empty beyond its length, all empty when null). */
    private static DoubleColumn bound(String name, double[] v, int rows) {
        DoubleColumn c = DoubleColumn.create(name);
        for (int l = 0; l < rows; l++) appendOrMissing(c, v != null && l < v.length ? v[l] : null);
        return c;
    }

    /** An angular-distance triangle as a table: column {@code l}, then {@code n=1 .. n=L}. */
    public static Table triangle(String name, double[][] t) {
        return triangle(name, t, null);
    }

    /** The same, followed by {@code n=1_lo, n=1_hi, ..} when the triangle's interval is given. */
    public static Table triangle(String name, double[][] t, Band band) {
        Table table = values(name, t);
        if (band != null) {
            int L = t.length;
            for (int n = 1; n <= L; n++) {
                DoubleColumn lo = DoubleColumn.create("n=" + n + "_lo"), hi = DoubleColumn.create("n=" + n + "_hi");
                for (int i = 0; i < L; i++) {
                    appendOrMissing(lo, i + n <= L ? band.lo()[i][n - 1] : null);
                    appendOrMissing(hi, i + n <= L ? band.hi()[i][n - 1] : null);
                }
                table.addColumns(lo, hi);
            }
        }
        return table;
    }

    private static Table values(String name, double[][] t) {
        int L = t.length;
        Table table = Table.create(name);
        IntColumn l = IntColumn.create("l");
        for (int i = 0; i < L; i++) {
            l.append(i);
        }
        table.addColumns(l);
        for (int n = 1; n <= L; n++) {
            DoubleColumn c = DoubleColumn.create("n=" + n);
            for (int i = 0; i < L; i++) {
                appendOrMissing(c, i + n <= L ? t[i][n - 1] : null);
            }
            table.addColumns(c);
        }
        return table;
    }

    private static void appendOrMissing(DoubleColumn c, Double v) {
        if (v == null) {
            c.appendMissing();
        } else {
            c.append(v);
        }
    }

    /** The CSV text of a table as written to disk. */
    public static String toCsv(Table t) {
        StringWriter w = new StringWriter();
        t.write().csv(CsvWriteOptions.builder(w).lineEnd("\n").header(true).usePrintFormatters(false).build());
        return w.toString();
    }

    private static void write(Table t, Path file) throws IOException {
        Files.writeString(file, toCsv(t), StandardCharsets.UTF_8);
    }
}
