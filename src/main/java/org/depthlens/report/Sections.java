package org.depthlens.report;

import org.depthlens.pass.Provenance;
import org.depthlens.pass.PrunedRemoval;
import org.depthlens.analysis.MetricRegistry;
import org.depthlens.probe.MetricSpec;
import org.depthlens.probe.Metrics;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** The built-in sections of report.html (see {@link ReportWriter#defaultSections()}). */
public final class Sections {
    private Sections() {}

    private static String[][] glossary() {
        List<String[]> g = new ArrayList<>();
        g.add(DEPTH);
        g.add(LOSS);
        for (MetricSpec s : MetricRegistry.METRICS) g.add(new String[] {s.indexed(), s.glossary()});
        for (String[] r : REST) g.add(r);
        return g.toArray(new String[0][]);
    }

    private static final String[] DEPTH = {"Depth", "x[0] is the embedding output, x[l] the output of block l-1 (the input of block l), and x[L] "
                + "the output of the last block before the final norm; every token position of every window is "
                + "one sample."};
    private static final String[] LOSS = {"loss", "Mean next-token negative log-likelihood (natural log, nats/token) over positions 0..T-2 of "
                + "every window; perplexity = exp(loss)."};
    private static final String[][] REST = {
        {"pruned_removal", "Contiguous pruning (Gromov et al.): for each n, the start l minimising "
                + "angular_last[l][n-1], and the loss with blocks l..l+n-1 all replaced by the identity."},
        {"expert_usage", "For each MoE block, how many routed token slots each expert received (the charts "
                + "show each expert's share of its block's total)."},
        {"ci95 (uncertainty)", "95 % interval of a number: the 2.5th and 97.5th percentile of its value over 1000 "
                + "resamples of whole windows drawn with replacement (seeded, recorded in metrics.json); shaded bands "
                + "in the charts. A difference between models resamples the same windows for both (paired)."},
        {"score_vs_damage", "Spearman's rank correlation over the blocks between a cheap score (block influence, "
                + "angular distance at n = 1, update ratio, Jacobian deviation, the lens KL drop kl[l] - kl[l+1]) and "
                + "damage[l], average ranks for ties, with its bootstrap interval."},
        {"variance_growth", "variance[l] over l = 1..L fitted as a + b l (in v), a l^b and a e^(b l) (in log v); "
                + "rmse_log compares the three in log v and names the best."},
        {"Row-normalised heatmaps", "The LNS repository's view: for each n, clip to the 1st-99th percentile "
                + "and min-max scale to [0, 1]. A presentation option only; every stored number is raw."},
    };

    /**
     * One sentence per term, from docs/metrics.md: the depth convention and the loss, every registered array metric
     * ({@link MetricRegistry#METRICS}, declared there once), then the rest.
     */
    static final String[][] GLOSSARY = glossary(); // after the rows it reads

    /** The built-in sections, in their default order. */
    public static List<ReportSection> defaults() {
        return List.of(new Models(), new ProvenanceTable(), new Glossary(), new PerModel(), new Comparison(),
                new StatsSection(), new Files());
    }

    // ------------------------------------------------------------------ models

    /** The list of models with their colour, family, block normalisation, depth and loss. */
    public static final class Models implements ReportSection {
        @Override
        public String id() {
            return "models";
        }

        @Override
        public String title() {
            return "Models";
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            out.raw("<table>\n<thead><tr><th>Model</th><th>Family</th><th>Block normalisation</th><th class=\"num\">Blocks L</th>"
                    + "<th class=\"num\">Loss (nats/token)</th><th class=\"num\">Perplexity</th>"
                    + "<th class=\"num\">Windows</th><th class=\"num\">Tokens</th><th>Directory</th></tr></thead>\n"
                    + "<tbody>\n");
            for (ReportModel m : ctx.models()) {
                Provenance p = m.result().provenance();
                out.raw("<tr><td><a href=\"#").text(m.anchor()).raw("\">").swatch(m).raw("</a></td><td>")
                        .text(nz(m.result().family())).raw("</td><td>").text(m.result().normLabel())
                        .raw("</td><td class=\"num\">").text(Integer.toString(m.blocks()))
                        .raw("</td><td class=\"num\">").text(Fmt.num(m.metrics().loss()))
                        .raw("</td><td class=\"num\">").text(Fmt.num(KeyNumbers.perplexity(m.metrics().loss())))
                        .raw("</td><td class=\"num\">").text(p == null ? "-" : Integer.toString(p.windows()))
                        .raw("</td><td class=\"num\">").text(p == null ? "-" : Long.toString(p.tokens()))
                        .raw("</td><td><code>").text(m.dirName() + "/").raw("</code></td></tr>\n");
            }
            out.raw("</tbody>\n</table>\n");
            if (!ctx.trajectories().isEmpty()) {
                for (Trajectory t : ctx.trajectories()) {
                    out.note("Trajectory " + (t.index() + 1) + " (checkpoints of one run, in this order): "
                            + String.join(" \u2192 ", t.models().stream().map(ReportModel::label).toList()) + ".");
                }
            }
        }
    }

    // ------------------------------------------------------------------ provenance

    /** Hashes, data, windows, tokens, tool version and date of every model, one column per model. */
    public static final class ProvenanceTable implements ReportSection {
        @Override
        public String id() {
            return "provenance";
        }

        @Override
        public String title() {
            return "Provenance";
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            List<ReportModel> ms = ctx.models();
            Map<String, Function<Provenance, String>> rows = new LinkedHashMap<>();
            rows.put("Model path", Provenance::modelPath);
            rows.put("config.json SHA-256", Provenance::configSha256);
            rows.put("Weights SHA-256 (headers + sizes)", Provenance::weightsSha256);
            rows.put("Data path", Provenance::dataPath);
            rows.put("Data SHA-256", Provenance::dataSha256);
            rows.put("Windows", p -> Integer.toString(p.windows()));
            rows.put("Tokens", p -> Long.toString(p.tokens()));
            rows.put("Tool version", Provenance::toolVersion);
            rows.put("Date", Provenance::date);
            rows.put("Block normalisation", p -> p.normLabel() == null ? "not recorded" : p.normLabel());
            rows.put("Normalisation chosen by", p -> p.normSource() == null ? "not recorded" : p.normSource());
            if (ms.stream().anyMatch(m -> m.result().provenance() != null && m.result().provenance().execution() != null)) {
                rows.put("Executed on", p -> p.execution() == null ? "one process" : p.execution());
            }
            out.raw("<div class=\"scroll\"><table class=\"prov\">\n<thead><tr><th></th>");
            for (ReportModel m : ms) {
                out.raw("<th>").swatch(m).raw("</th>");
            }
            out.raw("</tr></thead>\n<tbody>\n");
            for (Map.Entry<String, Function<Provenance, String>> r : rows.entrySet()) {
                out.raw("<tr><th>").text(r.getKey()).raw("</th>");
                for (ReportModel m : ms) {
                    Provenance p = m.result().provenance();
                    out.raw("<td><code>").text(p == null ? "not recorded" : nz(r.getValue().apply(p)))
                            .raw("</code></td>");
                }
                out.raw("</tr>\n");
            }
            out.raw("</tbody>\n</table></div>\n");
        }
    }

    // ------------------------------------------------------------------ glossary

    /** One sentence per metric. */
    public static final class Glossary implements ReportSection {
        @Override
        public String id() {
            return "metrics";
        }

        @Override
        public String title() {
            return "What the numbers mean";
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            out.raw("<dl class=\"glossary\">\n");
            for (String[] g : GLOSSARY) {
                out.raw("<dt>").text(g[0]).raw("</dt><dd>").text(g[1]).raw("</dd>\n");
            }
            out.raw("</dl>\n");
        }
    }

    // ------------------------------------------------------------------ per model

    /** One subsection per model: key numbers, pruning table and every chart. */
    public static final class PerModel implements ReportSection {
        @Override
        public String id() {
            return "per-model";
        }

        @Override
        public String title() {
            return "Per-model results";
        }

        @Override
        public Map<String, String> toc(ReportContext ctx) {
            Map<String, String> t = new LinkedHashMap<>();
            for (ReportModel m : ctx.models()) {
                t.put(m.anchor(), m.label());
            }
            return t;
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            for (ReportModel m : ctx.models()) {
                renderModel(ctx, m, out);
            }
        }

        private void renderModel(ReportContext ctx, ReportModel m, Html out) {
            Metrics x = m.metrics();
            int L = x.blocks();
            out.raw("<div class=\"model\" style=\"border-left-color:" + Palette.hex(m.color()) + "\">\n");
            out.raw("<h3 id=\"").text(m.anchor()).raw("\">").swatch(m).raw("</h3>\n");
            Provenance prov = m.result().provenance();
            out.p((nz(m.result().family())) + ", " + L + " blocks, " + (m.result().lns()
                    ? "LayerNorm Scaling (pre-norm outputs of block l scaled by 1/sqrt(l+1))" : "block normalisation " + m.result().normLabel())
                    + (prov != null && prov.normSource() != null ? " (" + prov.normSource() + ")" : "")
                    + ". Full-precision numbers: " + m.dirName() + "/metrics.json and the CSV files next to it.");

            List<List<String>> rows = new ArrayList<>();
            rows.add(List.of("Loss (nats/token)", Fmt.num(x.loss())));
            rows.add(List.of("Perplexity exp(loss)", Fmt.num(KeyNumbers.perplexity(x.loss()))));
            rows.add(List.of("Variance of x[0] (embeddings)", Fmt.num(x.variance()[0])));
            if (L >= 1) {
                rows.add(List.of("Variance of x[1]", Fmt.num(x.variance()[1])));
            }
            rows.add(List.of("Variance of x[L] (last block output)", Fmt.num(x.variance()[L])));
            rows.add(List.of("Variance growth x[L] / x[1]", Fmt.num(x.variance()[L] / x.variance()[1])));
            rows.add(List.of("RMS of x[L]", Fmt.num(x.rms()[L])));
            rows.add(List.of("Mean block influence", Fmt.num(KeyNumbers.mean(x.blockInfluence()))));
            if (x.logitLens() != null) {
                rows.add(List.of("Depth where top-1 agreement first exceeds 0.5", ProbeCharts.firstAgreeing(x)));
            }
            out.raw("<div class=\"cols\">\n<div>\n<h4>Key numbers</h4>\n");
            out.table(List.of("Quantity", "Value"), rows, new boolean[] {false, true});
            out.raw("</div>\n<div>\n<h4>Most and least important blocks</h4>\n");
            List<List<String>> rank = new ArrayList<>();
            double[] drop = m.lossDrop();
            if (drop != null) {
                rank.add(ranking("Largest loss increase when removed", KeyNumbers.rank(drop, 3, true), true));
                rank.add(ranking("Smallest loss increase when removed", KeyNumbers.rank(drop, 3, false), true));
            }
            rank.add(ranking("Highest block influence", KeyNumbers.rank(x.blockInfluence(), 3, true), false));
            rank.add(ranking("Lowest block influence", KeyNumbers.rank(x.blockInfluence(), 3, false), false));
            out.table(List.of("Ranking", "1st", "2nd", "3rd"), rank, null);
            if (drop == null) {
                out.note("The single-block removal sweep was not run for this model (no loss_without_layer).");
            }
            out.raw("</div>\n</div>\n");

            out.raw("<h4>Contiguous pruning (Gromov et al.)</h4>\n");
            List<PrunedRemoval> pr = m.result().prunedRemoval();
            if (pr == null || pr.isEmpty()) {
                out.note("Not computed for this model.");
            } else {
                List<List<String>> prow = new ArrayList<>();
                List<PrunedRemoval> sorted = new ArrayList<>(pr);
                sorted.sort(Comparator.comparingInt(PrunedRemoval::n).thenComparingInt(PrunedRemoval::start));
                // ci95 "pruned_removal.damage"[i] belongs to the i-th entry in metrics.json's order (paired: both
                // losses on the same resampled windows)
                var u = x.uncertainty();
                org.depthlens.stats.Band dmg = u == null ? null : u.ci95().get("pruned_removal.damage");
                for (PrunedRemoval p : sorted) {
                    int i = pr.indexOf(p);
                    String ci = dmg == null || i >= dmg.lo0().length ? "-"
                            : "[" + Fmt.signed(dmg.lo0()[i]) + ", " + Fmt.signed(dmg.hi0()[i]) + "]";
                    prow.add(List.of(Integer.toString(p.n()),
                            p.n() == 1 ? Integer.toString(p.start()) : p.start() + "-" + (p.start() + p.n() - 1),
                            Fmt.num(x.angularLast()[p.start()][p.n() - 1]), Fmt.num(p.loss()),
                            Fmt.signed(p.loss() - x.loss()), ci, Fmt.num(KeyNumbers.perplexity(p.loss()))));
                }
                out.table(List.of("n", "Blocks removed", "angular_last[start][n-1]", "Loss", "Loss - full loss",
                        "95 % interval (paired)", "Perplexity"), prow, new boolean[] {true, true, true, true, true, true, true});
            }

            out.raw("<h4>Residual stream growth</h4>\n").gridStart();
            for (String c : List.of("variance", "variance_log", "rms", "rms_log")) {
                ctx.figure(out, ctx.chart(m, c));
            }
            out.gridEnd().raw("<h4>Angular distance between depths</h4>\n").gridStart();
            for (String c : List.of("angular_last", "angular_last_rownorm", "angular_all", "angular_all_rownorm")) {
                ctx.figure(out, ctx.chart(m, c));
            }
            out.gridEnd().raw("<h4>Block importance</h4>\n").gridStart();
            for (String c : List.of("loss_drop", "loss_drop_zoom", "block_influence", "block_influence_log",
                    "update_ratio", "update_ratio_log")) {
                ctx.figure(out, ctx.chart(m, c));
            }
            out.gridEnd();
            if (ctx.chart(m, "logit_lens") != null || ctx.chart(m, "jacobian_deviation") != null
                    || ctx.chart(m, "sublayer_removal") != null) {
                out.raw("<h4>Where the prediction forms, how far blocks are from the identity</h4>\n").gridStart();
                for (String c : List.of("logit_lens", "top1_agreement", "jacobian_deviation", "sublayer_removal")) {
                    ctx.figure(out, ctx.chart(m, c));
                }
                out.gridEnd();
            }
            if (ReportCharts.autoCharts().stream().anyMatch(s -> ctx.chart(m, s.chart().id()) != null)) {
                out.raw("<h4>More probes</h4>\n").gridStart();
                for (MetricSpec s : ReportCharts.autoCharts()) ctx.figure(out, ctx.chart(m, s.chart().id()));
                out.gridEnd();
            }
            if (ctx.chart(m, "expert_usage") != null) {
                out.raw("<h4>Expert usage</h4>\n").gridStart();
                ctx.figure(out, ctx.chart(m, "expert_usage"));
                out.gridEnd();
            }
            out.raw("</div>\n");
        }

        private static List<String> ranking(String what, List<KeyNumbers.Ranked> r, boolean signed) {
            List<String> row = new ArrayList<>();
            row.add(what);
            for (int i = 0; i < 3; i++) {
                row.add(i < r.size() ? "block " + r.get(i).block() + ": "
                        + (signed ? Fmt.signed(r.get(i).value()) : Fmt.sig(r.get(i).value(), 4)) : "");
            }
            return row;
        }
    }

    // ------------------------------------------------------------------ comparison

    /** Differences table, overlays, side-by-side heatmaps, per-block table and trajectories. */
    public static final class Comparison implements ReportSection {
        @Override
        public String id() {
            return "comparison";
        }

        @Override
        public String title() {
            return "Comparison";
        }

        @Override
        public boolean appliesTo(ReportContext ctx) {
            return ctx.models().size() > 1;
        }

        @Override
        public Map<String, String> toc(ReportContext ctx) {
            Map<String, String> t = new LinkedHashMap<>();
            t.put("cmp-differences", "Differences");
            t.put("cmp-overlays", "Overlays");
            if (ctx.models().stream().anyMatch(m -> m.metrics().logitLens() != null || m.metrics().jacobianDeviation() != null)) {
                t.put("cmp-probes", "Logit lens, Jacobian, sublayers");
            }
            t.put("cmp-heatmaps", "Heatmaps side by side");
            for (Trajectory tr : ctx.trajectories()) {
                t.put("cmp-" + tr.prefix().replace('_', '-'), "Trajectory " + (tr.index() + 1));
            }
            return t;
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            List<ReportModel> ms = ctx.models();
            ReportModel base = ms.get(0);
            out.h3("cmp-differences", "Differences");
            out.note("Each model's value, then \u0394 model = its value minus the first model's (" + base.label()
                    + "). Block indices are 0-based. With intervals, a \u0394 carries its 95 % interval, paired: every "
                    + "resample draws the same windows for both models (docs/metrics.md, \"Paired differences\"); it is "
                    + "marked \u2605 only when that interval excludes zero, so an unmarked difference may be an accident "
                    + "of the windows. No interval: the models were not analysed together on the same windows.");
            List<String> header = new ArrayList<>();
            header.add("Quantity");
            for (ReportModel m : ms) {
                header.add(m.label());
            }
            for (int i = 1; i < ms.size(); i++) {
                header.add("\u0394 " + ms.get(i).label());
            }
            List<List<String>> rows = new ArrayList<>();
            List<String> forms = new ArrayList<>(List.of("Block normalisation"));
            for (ReportModel m : ms) forms.add(m.result().normLabel());
            for (int i = 1; i < ms.size(); i++) forms.add("");
            rows.add(forms);
            List<Map<PairedDeltas.Summary, org.depthlens.stats.Band>> paired = new ArrayList<>();
            for (int i = 1; i < ms.size(); i++) paired.add(PairedDeltas.of(ms.get(i), base));
            for (PairedDeltas.Summary sum : PairedDeltas.ALL) rows.add(numRow(sum, ms, paired));
            rows.add(blockRow("Most important block (loss increase)", ms, m -> m.lossDrop(), true));
            rows.add(blockRow("Least important block (loss increase)", ms, m -> m.lossDrop(), false));
            if (ms.stream().anyMatch(m -> m.metrics().logitLens() != null)) {
                List<String> row = new ArrayList<>();
                row.add("Depth where top-1 agreement first exceeds 0.5");
                for (ReportModel m : ms) row.add(ProbeCharts.firstAgreeing(m.metrics()));
                for (int i = 1; i < ms.size(); i++) row.add("");
                rows.add(row);
            }
            rows.add(blockRow("Highest block influence", ms, m -> m.metrics().blockInfluence(), true));
            rows.add(blockRow("Lowest block influence", ms, m -> m.metrics().blockInfluence(), false));
            boolean[] numeric = new boolean[header.size()];
            for (int i = 1; i < numeric.length; i++) {
                numeric[i] = true;
            }
            out.raw("<div class=\"scroll diff\">");
            out.table(header, rows, numeric);
            out.raw("</div>\n");
            List<String> post = ms.stream().filter(m -> m.result().hasPostNormBlocks()).map(ReportModel::label).toList();
            if (!post.isEmpty() && post.size() < ms.size()) {
                out.note("Post-norm blocks (" + String.join(", ", post) + ") output a normalised stream: their x[l] is norm(...), "
                        + "so the variance and RMS of the stream do not grow with depth there by construction. Compare their "
                        + "angular distances, block influence and removal losses with the pre-norm models; compare variances "
                        + "only between models of the same form.");
            }

            out.h3("cmp-overlays", "Overlays");
            out.gridStart();
            for (String c : List.of("variance_log", "variance", "rms_log", "block_influence_log", "loss_drop_zoom",
                    "loss_drop", "update_ratio_log")) {
                ctx.figure(out, ctx.compareChart(c));
            }
            for (MetricSpec s : ReportCharts.autoCharts()) ctx.figure(out, ctx.compareChart(s.chart().id()));
            out.gridEnd();

            if (ctx.compareChart("logit_lens") != null || ctx.compareChart("jacobian_deviation") != null) {
                out.h3("cmp-probes", "Logit lens, Jacobian deviation, sublayer removal");
                out.gridStart();
                for (String c : List.of("logit_lens", "top1_agreement", "jacobian_deviation")) {
                    ctx.figure(out, ctx.compareChart(c));
                }
                out.gridEnd();
            }
            if (ms.stream().anyMatch(m -> ctx.chart(m, "sublayer_removal") != null)) {
                out.note("Attention vs MLP removal, one chart per model, side by side.");
                out.gridStart();
                for (ReportModel m : ms) {
                    ctx.figure(out, ctx.chart(m, "sublayer_removal"));
                }
                out.gridEnd();
            }

            out.h3("cmp-heatmaps", "Heatmaps side by side");
            out.note("Angular distance on the last token, raw, with one colour scale for all models (0 to "
                    + Fmt.tick(ctx.angularScaleMax()) + ").");
            out.gridStart();
            for (ReportModel m : ms) {
                ctx.figure(out, ctx.chart(m, "angular_last"));
            }
            out.gridEnd();

            out.raw("<details><summary>Per-block values of every model</summary>\n");
            perBlockTable(ms, out);
            out.raw("</details>\n");

            for (Trajectory t : ctx.trajectories()) {
                out.h3("cmp-" + t.prefix().replace('_', '-'), "Trajectory " + (t.index() + 1) + ": "
                        + String.join(" \u2192 ", t.models().stream().map(ReportModel::label).toList()));
                List<List<String>> tr = new ArrayList<>();
                for (ReportModel m : t.models()) {
                    tr.add(List.of(m.label(), Fmt.num(m.metrics().loss()),
                            Fmt.num(KeyNumbers.perplexity(m.metrics().loss())),
                            Fmt.num(m.metrics().variance()[m.blocks()]),
                            Fmt.num(KeyNumbers.mean(m.metrics().blockInfluence()))));
                }
                out.table(List.of("Checkpoint", "Loss", "Perplexity", "Variance of x[L]", "Mean block influence"),
                        tr, new boolean[] {false, true, true, true, true});
                out.gridStart();
                for (String c : List.of("_heat_loss_drop", "_heat_block_influence", "_heat_variance", "_variance_log",
                        "_block_influence_log", "_loss_drop")) {
                    ctx.figure(out, ctx.compareChart(t.prefix() + c));
                }
                out.gridEnd();
            }
        }

        /** A summary's row: each model's value, then each later model's difference with its paired interval. */
        private static List<String> numRow(PairedDeltas.Summary sum, List<ReportModel> ms,
                                           List<Map<PairedDeltas.Summary, org.depthlens.stats.Band>> paired) {
            List<String> row = new ArrayList<>();
            row.add(sum.label());
            for (ReportModel m : ms) {
                row.add(Fmt.num(sum.value(m)));
            }
            double b = sum.value(ms.get(0));
            for (int i = 1; i < ms.size(); i++) {
                row.add(PairedDeltas.cell(sum.value(ms.get(i)) - b, paired.get(i - 1).get(sum)));
            }
            return row;
        }

        private static List<String> blockRow(String name, List<ReportModel> ms, Function<ReportModel, double[]> f,
                                             boolean largest) {
            List<String> row = new ArrayList<>();
            row.add(name);
            for (ReportModel m : ms) {
                double[] v = f.apply(m);
                List<KeyNumbers.Ranked> r = v == null ? List.of() : KeyNumbers.rank(v, 1, largest);
                row.add(r.isEmpty() ? "-" : "block " + r.get(0).block() + " (" + Fmt.sig(r.get(0).value(), 4) + ")");
            }
            for (int i = 1; i < ms.size(); i++) {
                row.add("");
            }
            return row;
        }

        private static void perBlockTable(List<ReportModel> ms, Html out) {
            int maxL = ms.stream().mapToInt(ReportModel::blocks).max().orElse(0);
            List<String> header = new ArrayList<>();
            header.add("Block");
            for (ReportModel m : ms) {
                header.add("BI " + m.label());
            }
            for (ReportModel m : ms) {
                header.add("Loss increase " + m.label());
            }
            List<List<String>> rows = new ArrayList<>();
            for (int l = 0; l < maxL; l++) {
                List<String> row = new ArrayList<>();
                row.add(Integer.toString(l));
                for (ReportModel m : ms) {
                    row.add(l < m.blocks() ? Fmt.sig(m.metrics().blockInfluence()[l], 4) : "");
                }
                for (ReportModel m : ms) {
                    double[] d = m.lossDrop();
                    row.add(d != null && l < m.blocks() ? Fmt.signed(d[l]) : "");
                }
                rows.add(row);
            }
            boolean[] numeric = new boolean[header.size()];
            java.util.Arrays.fill(numeric, true);
            out.raw("<div class=\"scroll\">");
            out.table(header, rows, numeric);
            out.raw("</div>\n");
        }
    }

    // ------------------------------------------------------------------ files

    /** Where the full-precision numbers and chart files are. */
    public static final class Files implements ReportSection {
        @Override
        public String id() {
            return "files";
        }

        @Override
        public String title() {
            return "Files";
        }

        @Override
        public void render(ReportContext ctx, Html out) {
            out.p("Numbers in this page are rounded for reading (5 significant digits); the files hold them at "
                    + "full double precision.");
            out.raw("<ul>\n");
            for (ReportModel m : ctx.models()) {
                out.raw("<li><code>").text(m.dirName() + "/metrics.json").raw("</code>, <code>")
                        .text(m.dirName() + "/per_block.csv").raw("</code>, <code>")
                        .text(m.dirName() + "/angular_all.csv").raw("</code>, <code>")
                        .text(m.dirName() + "/angular_last.csv").raw("</code>, charts in <code>")
                        .text(m.dirName() + "/charts/").raw("</code> (PNG and SVG)</li>\n");
            }
            if (ctx.models().size() > 1) {
                out.raw("<li>Comparison charts in <code>compare/</code> (PNG and SVG)</li>\n");
            }
            out.raw("</ul>\n");
            out.p("CSV: one row per depth l = 0..L in per_block.csv (variance, token_variance and rms describe x[l]; "
                    + "the block columns describe block l and are empty at l = L); angular_*.csv have a row per l "
                    + "and a column per n, empty where l+n > L.");
        }
    }

    static String nz(String s) {
        return s == null ? "-" : s;
    }
}
