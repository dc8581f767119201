package org.depthlens.report;

import org.depthlens.eval.DocsResult;
import org.depthlens.eval.EvalResult;
import org.depthlens.eval.FileIntervals;
import org.depthlens.eval.FileScores;
import org.depthlens.eval.TaskResult;
import org.depthlens.report.ChartRef;
import org.depthlens.report.Charts;
import org.depthlens.report.Fmt;
import org.depthlens.report.Html;
import org.depthlens.report.ReportContext;
import org.depthlens.report.ReportModel;
import org.depthlens.report.ReportSection;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.style.markers.SeriesMarkers;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The report's "Evaluation" section: perplexity and multiple-choice accuracy of every model, and their
 * change when each block is removed (the Curse of Depth paper's Figure 1 shape) or a contiguous run of
 * blocks is pruned, models side by side. In an {@code analyze} report the models' directories and
 * colours are those of the report; in an {@code eval} report (no probe metrics) the entries bring them.
 */
public final class EvalSection implements ReportSection {
    /** One model: its label, output directory name (under the report folder), colour and result. */
    /** "LNS", "Mix-LN (post_pre, POST_NUM=2)": from the provenance, else by the LNS flag. */
    static String normLabel(EvalResult r) {
        String l = r.provenance() == null ? null : r.provenance().normLabel();
        return l != null ? l : r.lns() ? "LNS" : "Pre-LN";
    }

    public record Entry(String label, String dirName, Color color, EvalResult result) {
    }

    private final List<Entry> entries;

    public EvalSection(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    @Override
    public String id() {
        return "evaluation";
    }

    @Override
    public String title() {
        return "Evaluation: perplexity and accuracy under block removal";
    }

    @Override
    public boolean appliesTo(ReportContext ctx) {
        return !entries.isEmpty();
    }

    @Override
    public Map<String, String> toc(ReportContext ctx) {
        Map<String, String> t = new LinkedHashMap<>();
        t.put("eval-summary", "Full models");
        for (String f : docsFiles()) t.put(anchor("ppl", f), f);
        for (String f : taskFiles()) t.put(anchor("task", f), f);
        return t;
    }

    /** The entries with the report's directory and colour for models the report knows. */
    private List<Entry> resolved(ReportContext ctx) {
        List<Entry> out = new ArrayList<>();
        for (Entry e : entries) {
            ReportModel m = ctx.models().stream().filter(x -> x.label().equals(e.label())).findFirst().orElse(null);
            out.add(m == null ? e : new Entry(e.label(), m.dirName(), m.color(), e.result()));
        }
        return out;
    }

    private Set<String> docsFiles() {
        Set<String> s = new LinkedHashSet<>();
        for (Entry e : entries) for (DocsResult d : e.result().perplexity()) s.add(d.name());
        return s;
    }

    private Set<String> taskFiles() {
        Set<String> s = new LinkedHashSet<>();
        for (Entry e : entries) for (TaskResult t : e.result().tasks()) s.add(t.name());
        return s;
    }

    @Override
    public void render(ReportContext ctx, Html out) throws IOException {
        List<Entry> es = resolved(ctx);
        EvalResult.Settings s0 = es.get(0).result().settings();
        out.p("Scored the way lm-evaluation-harness does: a document's tokens (no special tokens) are predicted once each in "
                + "disjoint rolling windows of at most max_length tokens, the first from the BOS token (EOS without BOS); a "
                + "multiple-choice item scores each choice by the summed log-likelihood of its tokens after the context (the "
                + "context's trailing space moves to the choice), acc takes the best sum and acc_norm the best sum per "
                + "character of the choice.");
        out.note("\u0394 = value without the block(s) - value of the full model: a positive perplexity change and a negative "
                + "accuracy change are losses. Every removal is measured in the same pass over the weights as the full model "
                + "(one branch per removed block, born from the shared prefix). max_length " + s0.maxLength()
                + (s0.prune() > 0 ? "; pruning chosen by " + s0.pruningChosenOn() : "") + ".");

        out.h3("eval-summary", "Full models");
        out.note("Every number carries its 95 % interval: a percentile bootstrap over whole items of a task or whole documents "
                + "(1000 resamples, seeded; docs/metrics.md, \"Uncertainty of the evaluation\"). A \u0394 resamples both sides "
                + "on the same items or documents (paired) and is marked \u2605 only when its interval excludes zero; an "
                + "unmarked difference may be an accident of the sample.");
        List<String> header = new ArrayList<>();
        header.add("Quantity");
        for (Entry e : es) header.add(e.label());
        for (int i = 1; i < es.size(); i++) header.add("\u0394 " + es.get(i).label());
        List<List<String>> rows = new ArrayList<>();
        rows.add(row("Block normalisation", es, e -> normLabel(e.result())));
        for (String f : docsFiles()) {
            rows.add(row(f + ": documents / tokens", es, e -> docs(e, f) == null ? "-" : docs(e, f).documents() + " / " + docs(e, f).tokens()));
            for (String m : DocsResult.METRICS) rows.add(metricRow(f, m, es, e -> docs(e, f)));
            rows.add(row(f + ": most harmful removal (\u0394 token_ppl)", es, e -> top(docs(e, f), "token_ppl", false)));
        }
        for (String f : taskFiles()) {
            rows.add(row(f + ": items", es, e -> task(e, f) == null ? "-" : Integer.toString(task(e, f).n())));
            for (String m : TaskResult.METRICS) rows.add(metricRow(f, m, es, e -> task(e, f)));
            rows.add(row(f + ": most harmful removal (\u0394 acc)", es, e -> top(task(e, f), "acc", true)));
        }
        boolean[] numeric = new boolean[header.size()];
        for (int i = 1; i < numeric.length; i++) numeric[i] = true;
        out.raw("<div class=\"scroll\">");
        out.table(header, rows, numeric);
        out.raw("</div>\n");

        for (String f : docsFiles()) {
            out.h3(anchor("ppl", f), "Perplexity: " + f);
            List<Entry> with = es.stream().filter(e -> docs(e, f) != null).toList();
            fileBody(ctx, out, f, with, e -> docs(e, f), "token_ppl", List.of("token_ppl", "bits_per_byte"),
                    "Token perplexity change", "\u0394 token perplexity (without - full)");
        }
        for (String f : taskFiles()) {
            out.h3(anchor("task", f), "Multiple choice: " + f);
            List<Entry> with = es.stream().filter(e -> task(e, f) != null).toList();
            fileBody(ctx, out, f, with, e -> task(e, f), "acc", List.of("acc", "acc_norm"),
                    "Accuracy change", "\u0394 accuracy (without - full)");
        }
    }

    private void fileBody(ReportContext ctx, Html out, String file, List<Entry> es, Function<Entry, FileScores> get, String main,
                          List<String> tableMetrics, String chartTitle, String yAxis) throws IOException {
        List<Entry> swept = es.stream().filter(e -> !get.apply(e).removal().isEmpty()).toList();
        if (swept.isEmpty()) {
            out.note("The single-block removal sweep was not run (--removal none).");
        } else {
            boolean acc = main.equals("acc");
            String name = "eval_" + safe(file) + "_" + main;
            String caption = (acc ? "acc (solid) and acc_norm (dashed)" : "token perplexity") + " without block l minus the "
                    + "full model's, for every block l (0-based), shaded: its 95 % interval, paired (the same resampled "
                    + (acc ? "items" : "documents") + " for both sides); the y axis is fitted to all but dominant blocks, whose values "
                    + "are printed in the chart.";
            out.gridStart();
            if (swept.size() > 1) {
                List<Charts.Line> lines = new ArrayList<>();
                for (int i = 0; i < swept.size(); i++) {
                    Entry e = swept.get(i);
                    lines.addAll(acc ? lines(e, get.apply(e), true, i, true)
                            : List.of(new Charts.Line(e.label(), range(get.apply(e).removal().size()), logRatio(get.apply(e)),
                            e.color(), Charts.marker(i), false).with(get.apply(e).bounds(FileIntervals.LOSS_INCREASE))));
                }
                String title = acc ? chartTitle + " per removed block: " + file : "Loss increase per removed block: " + file;
                var chart = Charts.lines(title, "Block l removed (0-based)", acc ? yAxis : "ln(token_ppl without / full) (nats/token)",
                        lines, Charts.Scale.LINEAR, true, true, "block");
                String overlayCaption = acc ? caption : "ln(token perplexity without block l / full model's), i.e. the increase of "
                        + "the mean next-token loss in nats per token, every model on one scale (perplexity changes of different "
                        + "models differ by orders of magnitude; the per-model charts show them), shaded: its 95 % interval over "
                        + "resampled documents; the y axis is fitted to all but dominant blocks, whose values are printed in the chart.";
                ctx.figure(out, ctx.writeChart(ctx.compareDir(), acc ? name : "eval_" + safe(file) + "_loss", chart,
                        acc ? chartTitle + " per removed block, all models" : "Loss increase per removed block, all models", overlayCaption));
            }
            for (int i = 0; i < swept.size(); i++) {
                Entry e = swept.get(i);
                List<Charts.Line> own = lines(e, get.apply(e), acc, i, false);
                var chart = Charts.lines(e.label() + ": " + chartTitle.toLowerCase(java.util.Locale.ROOT) + " per removed block",
                        "Block l removed (0-based)", yAxis, own, Charts.Scale.LINEAR, true, true, "block");
                Path dir = ctx.outDir().resolve(e.dirName()).resolve(ReportContext.CHARTS_DIR);
                ChartRef ref = ctx.writeChart(dir, name, chart, e.label() + ": " + chartTitle.toLowerCase(java.util.Locale.ROOT)
                        + " per removed block (" + file + ")", caption);
                ctx.figure(out, ref);
            }
            out.gridEnd();
            for (Entry e : swept) {
                FileScores fs = get.apply(e);
                String most = losses(fs, main, acc, 5);
                out.note(e.label() + ": blocks that matter most (largest loss of " + main + " when removed): "
                        + (most.isEmpty() ? "none (no removal loses anything)" : most) + "; least: " + ranking(fs, main, acc, 3) + ".");
            }
            List<String> header = new ArrayList<>();
            header.add("Block removed");
            for (String m : tableMetrics) for (Entry e : swept) header.add("\u0394 " + m + " " + e.label());
            int maxL = swept.stream().mapToInt(e -> get.apply(e).removal().size()).max().orElse(0);
            List<List<String>> rows = new ArrayList<>();
            for (int l = 0; l < maxL; l++) {
                List<String> r = new ArrayList<>();
                r.add(Integer.toString(l));
                for (String m : tableMetrics) {
                    for (Entry e : swept) {
                        double[] d = get.apply(e).removalDelta(m);
                        r.add(l < d.length ? change(d[l], get.apply(e).bounds("removal." + m), l) : "");
                    }
                }
                rows.add(r);
            }
            out.raw("<details><summary>Change per removed block, every model, with its paired 95 % interval (\u2605: the interval "
                    + "excludes zero)</summary>\n<div class=\"scroll\">");
            out.table(header, rows, numeric(header.size()));
            out.raw("</div></details>\n");
        }
        List<List<String>> prow = new ArrayList<>();
        for (Entry e : es) {
            FileScores fs = get.apply(e);
            List<FileScores.Pruned> pr = new ArrayList<>(fs.pruned());
            pr.sort(Comparator.comparingInt(FileScores.Pruned::n));
            for (FileScores.Pruned p : pr) {
                List<String> r = new ArrayList<>();
                r.add(e.label());
                r.add(Integer.toString(p.n()));
                r.add(p.n() == 1 ? Integer.toString(p.start()) : p.start() + "-" + (p.start() + p.n() - 1));
                Map<String, Double> d = fs.delta(p.values());
                int at = fs.pruned().indexOf(p);
                for (String m : fs.metrics()) r.add(Fmt.num(p.values().get(m)) + " (" + change(d.get(m), fs.bounds("pruned." + m), at) + ")");
                prow.add(r);
            }
        }
        if (!prow.isEmpty()) {
            out.raw("<h4>Contiguous pruning (blocks chosen by angular distance)</h4>\n");
            out.note("Each value with its change (and the change's paired 95 % interval, \u2605 when it excludes zero).");
            List<String> header = new ArrayList<>(List.of("Model", "n", "Blocks removed"));
            for (String m : get.apply(es.get(0)).metrics()) header.add(m + " (\u0394)");
            out.table(header, prow, numeric(header.size()));
        }
    }

    private static List<Charts.Line> lines(Entry e, FileScores fs, boolean acc, int index, boolean labelled) {
        double[] x = range(fs.removal().size());
        List<Charts.Line> lines = new ArrayList<>();
        String suffix = labelled ? e.label() : "";
        if (acc) {
            lines.add(new Charts.Line((suffix.isEmpty() ? "" : suffix + " ") + "acc", x, fs.removalDelta("acc"), e.color(),
                    Charts.marker(index), false).with(fs.bounds("removal.acc")));
            lines.add(new Charts.Line((suffix.isEmpty() ? "" : suffix + " ") + "acc_norm", x, fs.removalDelta("acc_norm"), e.color(),
                    SeriesMarkers.NONE, true).with(fs.bounds("removal.acc_norm")));
        } else {
            lines.add(new Charts.Line(suffix.isEmpty() ? "token_ppl without - full" : suffix, x, fs.removalDelta("token_ppl"),
                    e.color(), Charts.marker(index), false).with(fs.bounds("removal.token_ppl")));
        }
        return lines;
    }

    /**
     * "+0.12 [+0.05, +0.19]" for a change and its paired interval at position i, marked \u2605 when the interval
     * excludes zero (docs/metrics.md, "Uncertainty of the evaluation"); just the change without an interval.
     */
    static String change(double delta, double[][] bounds, int i) {
        if (bounds == null || i < 0 || i >= bounds[0].length) return Fmt.signed(delta);
        double lo = bounds[0][i], hi = bounds[1][i];
        if (!Double.isFinite(lo) || !Double.isFinite(hi)) return Fmt.signed(delta);
        return (PairedDeltas.excludesZero(lo, hi) ? "\u2605 " : "") + Fmt.signed(delta) + " [" + Fmt.signed(lo) + ", " + Fmt.signed(hi) + "]";
    }

    /** "240.8 [184.5, 308.7]": a value with its interval (just the value without one). */
    static String withInterval(double v, double[][] bounds) {
        if (bounds == null || !Double.isFinite(bounds[0][0]) || !Double.isFinite(bounds[1][0])) return Fmt.num(v);
        return Fmt.num(v) + " [" + Fmt.num(bounds[0][0]) + ", " + Fmt.num(bounds[1][0]) + "]";
    }

    /** ln(token_ppl without block l) - ln(token_ppl full): the loss increase in nats per token. */
    private static double[] logRatio(FileScores fs) {
        double[] d = new double[fs.removal().size()];
        for (int l = 0; l < d.length; l++) d[l] = Math.log(fs.removal().get(l).get("token_ppl")) - Math.log(fs.full().get("token_ppl"));
        return d;
    }

    /**
     * "block 0 (\u2605 +12.3 [+9.1, +15.0]), block 5 (+1.2 [-0.4, +2.2]), ...": the k blocks whose removal changes the
     * metric most in one direction, with the change's paired interval.
     */
    static String ranking(FileScores fs, String metric, boolean largest, int k) {
        double[] d = fs.removalDelta(metric);
        Integer[] idx = new Integer[d.length];
        for (int i = 0; i < d.length; i++) idx[i] = i;
        Comparator<Integer> c = Comparator.comparingDouble(i -> d[i]);
        java.util.Arrays.sort(idx, (largest ? c.reversed() : c).thenComparingInt(i -> i));
        List<String> parts = new ArrayList<>();
        double[][] b = fs.bounds("removal." + metric);
        for (int i = 0; i < Math.min(k, idx.length); i++) parts.add("block " + idx[i] + " (" + change(d[idx[i]], b, idx[i]) + ")");
        return String.join(", ", parts);
    }

    /** The (at most k) removals with a loss: a perplexity increase or an accuracy decrease, the largest first. */
    static String losses(FileScores fs, String metric, boolean accuracy, int k) {
        double[] d = fs.removalDelta(metric);
        List<Integer> idx = new ArrayList<>();
        for (int i = 0; i < d.length; i++) if (accuracy ? d[i] < 0 : d[i] > 0) idx.add(i);
        idx.sort(Comparator.comparingDouble((Integer i) -> accuracy ? d[i] : -d[i]).thenComparingInt(i -> i));
        List<String> parts = new ArrayList<>();
        double[][] b = fs.bounds("removal." + metric);
        for (int i = 0; i < Math.min(k, idx.size()); i++) parts.add("block " + idx.get(i) + " (" + change(d[idx.get(i)], b, idx.get(i)) + ")");
        return String.join(", ", parts);
    }

    private static String top(FileScores fs, String metric, boolean accuracy) {
        if (fs == null || fs.removal().isEmpty()) return "-";
        String s = losses(fs, metric, accuracy, 1);
        return s.isEmpty() ? "none" : s;
    }

    private static DocsResult docs(Entry e, String f) {
        return e.result().perplexity().stream().filter(d -> d.name().equals(f)).findFirst().orElse(null);
    }

    private static TaskResult task(Entry e, String f) {
        return e.result().tasks().stream().filter(d -> d.name().equals(f)).findFirst().orElse(null);
    }

    /** A row of the full-models table: each model's value, then an empty cell under each difference column. */
    private static List<String> row(String name, List<Entry> es, Function<Entry, String> f) {
        List<String> r = new ArrayList<>();
        r.add(name);
        for (Entry e : es) r.add(f.apply(e));
        for (int i = 1; i < es.size(); i++) r.add("");
        return r;
    }

    /**
     * A metric's row: each model's value with its interval, then each later model's difference to the first with the
     * paired interval (the same resampled items or documents for both models; absent when the file was not evaluated
     * for both in this run).
     */
    private static List<String> metricRow(String file, String metric, List<Entry> es, Function<Entry, FileScores> get) {
        List<String> r = new ArrayList<>();
        r.add(file + ": " + metric);
        for (Entry e : es) {
            FileScores fs = get.apply(e);
            r.add(fs == null ? "-" : withInterval(fs.full().get(metric), fs.bounds(metric)));
        }
        FileScores base = get.apply(es.get(0));
        for (int i = 1; i < es.size(); i++) {
            FileScores fs = get.apply(es.get(i));
            if (fs == null || base == null) {
                r.add("-");
                continue;
            }
            var band = FileIntervals.paired(fs.uncertainty(), base.uncertainty(), List.of(metric)).get(metric);
            double d = fs.full().get(metric) - base.full().get(metric);
            r.add(change(d, band == null ? null : new double[][] {band.lo0(), band.hi0()}, 0));
        }
        return r;
    }

    private static boolean[] numeric(int n) {
        boolean[] b = new boolean[n];
        for (int i = 1; i < n; i++) b[i] = true;
        return b;
    }

    private static double[] range(int n) {
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = i;
        return x;
    }

    private static String anchor(String kind, String file) {
        return "eval-" + kind + "-" + safe(file).replace('_', '-').replace('.', '-');
    }

    /** A portable name: letters, digits, '.', '_' and '-'. */
    static String safe(String s) {
        String n = s.replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("_+", "_").replaceAll("^[._-]+", "");
        return n.isEmpty() ? "file" : n.length() > 80 ? n.substring(0, 80) : n;
    }
}
