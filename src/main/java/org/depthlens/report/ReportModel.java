package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;

import java.awt.Color;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * One model as the report shows it.
 *
 * @param index   position in the list the user gave (0-based); decides the colour
 * @param label   the label shown in charts and the report, unique within the report (the model's
 *                own label, or "label (2)" for a repeated one)
 * @param dirName the output directory name under the report directory, unique, filesystem-safe
 * @param anchor  the HTML id of the model's section
 * @param color   the model's colour in every chart and swatch
 * @param result  the analysis result, unchanged
 */
public record ReportModel(int index, String label, String dirName, String anchor, Color color, ModelResult result) {

    /** Names that cannot be a model directory: the report's own entries (skipped.json: --keep-going's list, written by cli). */
    static final Set<String> RESERVED = Set.of("compare", "report.html", "skipped.json");

    public Metrics metrics() {
        return result.metrics();
    }

    public int blocks() {
        return result.metrics().blocks();
    }

    /** {@code loss_without_layer[l] - loss} for each block, or null if the sweep was not run. */
    public double[] lossDrop() {
        return lossDrop(result.metrics());
    }

    static double[] lossDrop(Metrics m) {
        return MetricSpec.minusLoss(m.lossWithoutLayer(), m);
    }

    /** Assigns labels, directory names, anchors and colours, in the order given. */
    static List<ReportModel> of(List<ModelResult> results) {
        List<ReportModel> out = new ArrayList<>();
        Set<String> labels = new HashSet<>();
        List<String> dirs = dirNames(results.stream().map(ModelResult::label).toList());
        for (int i = 0; i < results.size(); i++) {
            ModelResult r = results.get(i);
            MetricsShape.check(r);
            String base = baseLabel(r.label(), i);
            String label = base;
            for (int k = 2; !labels.add(label); k++) {
                label = base + " (" + k + ")";
            }
            out.add(new ReportModel(i, label, dirs.get(i), "model-" + dirs.get(i), Palette.model(i), r));
        }
        return out;
    }

    /**
     * The one rule for the output folder of each model (analyze's metrics.json, eval's eval.json): its label
     * made portable ({@link #safeName}), with "-2", "-3", ... appended to a name taken before it (ignoring
     * case) or reserved for the report's own files.
     */
    public static List<String> dirNames(List<String> labels) {
        List<String> out = new ArrayList<>();
        Set<String> dirs = new HashSet<>();
        for (int i = 0; i < labels.size(); i++) {
            String dirBase = safeName(baseLabel(labels.get(i), i));
            String dir = dirBase;
            for (int k = 2; RESERVED.contains(dir.toLowerCase(Locale.ROOT))
                    || !dirs.add(dir.toLowerCase(Locale.ROOT)); k++) {
                dir = dirBase + "-" + k;
            }
            out.add(dir);
        }
        return out;
    }

    private static String baseLabel(String label, int i) {
        return label == null || label.isBlank() ? "model " + (i + 1) : label.strip();
    }

    /** A portable file name: letters, digits, '.', '_' and '-' only, no leading dot, at most 80 chars. */
    static String safeName(String s) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || c == '.' || c == '_' || c == '-';
            b.append(ok ? c : '_');
        }
        String n = b.toString().replaceAll("_+", "_").replaceAll("^[._-]+", "");
        if (n.length() > 80) {
            n = n.substring(0, 80);
        }
        return n.isEmpty() ? "model" : n;
    }
}
