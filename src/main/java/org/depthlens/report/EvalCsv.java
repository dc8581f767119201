package org.depthlens.report;

import org.depthlens.eval.EvalResult;
import org.depthlens.eval.FileScores;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The performance-drop tables of one model, as CSV ({@code "\n"} line ends, numbers in
 * {@link Double#toString(double)} form, empty cell for non-finite values):
 * <ul>
 *   <li>{@code eval_removal.csv}: a row per removed block, a column {@code <file>:<metric>} per metric of every
 *       task and documents file, holding {@code value_without - value_full};</li>
 *   <li>{@code eval_pruned.csv}: a row per pruning (n, start), the same columns.</li>
 * </ul>
 * After all the value columns, {@code <file>:<metric>_lo} and {@code <file>:<metric>_hi} for each: the 95 % interval
 * of the change, paired (the same resampled items or documents for both sides; docs/metrics.md).
 */
public final class EvalCsv {
    public static final String REMOVAL = "eval_removal.csv";
    public static final String PRUNED = "eval_pruned.csv";

    private EvalCsv() {}

    static List<FileScores> files(EvalResult r) {
        List<FileScores> all = new ArrayList<>(r.perplexity());
        all.addAll(r.tasks());
        return all;
    }

    public static void writeAll(EvalResult r, Path dir) throws IOException {
        List<FileScores> files = files(r);
        StringBuilder head = new StringBuilder();
        for (FileScores f : files) for (String m : f.metrics()) head.append(',').append(cell(f.name() + ":" + m));
        for (FileScores f : files) {
            for (String m : f.metrics()) head.append(',').append(cell(f.name() + ":" + m + "_lo")).append(',').append(cell(f.name() + ":" + m + "_hi"));
        }
        if (files.stream().anyMatch(f -> !f.removal().isEmpty())) {
            StringBuilder sb = new StringBuilder("block").append(head).append('\n');
            for (int l = 0; l < r.blocks(); l++) {
                sb.append(l);
                for (FileScores f : files) {
                    for (String m : f.metrics()) sb.append(',').append(l < f.removal().size() ? num(f.removalDelta(m)[l]) : "");
                }
                for (FileScores f : files) for (String m : f.metrics()) bounds(sb, f.bounds("removal." + m), l);
                sb.append('\n');
            }
            Files.writeString(dir.resolve(REMOVAL), sb.toString(), StandardCharsets.UTF_8);
        }
        if (files.stream().anyMatch(f -> !f.pruned().isEmpty())) {
            StringBuilder sb = new StringBuilder("n,start").append(head).append('\n');
            int rows = files.get(0).pruned().size();
            for (int i = 0; i < rows; i++) {
                FileScores.Pruned p0 = files.get(0).pruned().get(i);
                sb.append(p0.n()).append(',').append(p0.start());
                for (FileScores f : files) {
                    var d = f.delta(f.pruned().get(i).values());
                    for (String m : f.metrics()) sb.append(',').append(num(d.get(m)));
                }
                for (FileScores f : files) for (String m : f.metrics()) bounds(sb, f.bounds("pruned." + m), i);
                sb.append('\n');
            }
            Files.writeString(dir.resolve(PRUNED), sb.toString(), StandardCharsets.UTF_8);
        }
    }

    /** ",lo,hi" of position i of an interval (empty cells without it). */
    private static void bounds(StringBuilder sb, double[][] b, int i) {
        boolean has = b != null && i < b[0].length;
        sb.append(',').append(has ? num(b[0][i]) : "").append(',').append(has ? num(b[1][i]) : "");
    }

    private static String num(double v) {
        return Double.isFinite(v) ? Double.toString(v) : "";
    }

    private static String cell(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }
}
