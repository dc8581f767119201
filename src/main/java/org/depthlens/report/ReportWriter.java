package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.Provenance;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The report's entry point. {@link #writeAll} writes, into the directory it is given:
 * <pre>
 * outDir/&lt;model&gt;/metrics.json, per_block.csv, angular_all.csv, angular_last.csv
 * outDir/&lt;model&gt;/charts/*.png, *.svg
 * outDir/compare/*.png, *.svg            (two or more models)
 * outDir/report.html                     (one self-contained file, charts embedded)
 * </pre>
 * {@code <model>} is the model's label made filesystem-safe and unique (see {@link ReportModel}).
 * The caller makes the directory appear atomically (temp dir + rename); this class only writes.
 * Output is deterministic: the same results give byte-identical files.
 */
public final class ReportWriter {
    static {
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
    }

    private ReportWriter() {}

    /** The sections of report.html by default, in order; insert your own into a copy of this list. */
    public static List<ReportSection> defaultSections() {
        return Sections.defaults();
    }

    /** {@link #writeAll(List, Path, ReportOptions)} with {@link ReportOptions#defaults()}. */
    public static ReportOutput writeAll(List<ModelResult> results, Path outDir) throws IOException {
        return writeAll(results, outDir, ReportOptions.defaults());
    }

    /**
     * Writes every file of the report for {@code results} (one per model, in the order the user
     * gave) into {@code outDir}, which is created if missing.
     *
     * @throws IllegalArgumentException if there is no result or a result's arrays have the wrong shape
     */
    public static ReportOutput writeAll(List<ModelResult> results, Path outDir, ReportOptions options)
            throws IOException {
        if (results == null || results.isEmpty()) {
            throw new IllegalArgumentException("no model results to report");
        }
        ChartFiles.checkSvgSupport();
        List<ReportModel> models = ReportModel.of(results);
        List<Trajectory> trajectories = options.trajectories() == null
                ? Trajectory.detect(models) : Trajectory.explicit(models, options.trajectories());
        String title = options.title() == null ? "depthlens report" : options.title();
        ReportContext ctx = new ReportContext(outDir, title, models, trajectories);
        Files.createDirectories(outDir);

        Map<String, Path> dirs = new LinkedHashMap<>();
        for (ReportModel m : models) {
            Path dir = ctx.modelDir(m);
            Files.createDirectories(dir);
            MetricsJson.write(m.result(), dir.resolve("metrics.json"));
            MetricsCsv.writeAll(m.result(), dir);
            ReportCharts.writeModel(ctx, m);
            dirs.put(m.label(), dir);
        }
        if (models.size() > 1) {
            ReportCharts.writeCompare(ctx);
        }
        List<ReportSection> sections = options.sections() == null ? defaultSections() : options.sections();
        String html = render(ctx, sections);
        Path report = outDir.resolve("report.html");
        Files.writeString(report, html, StandardCharsets.UTF_8);
        return new ReportOutput(report, dirs, models.size() > 1 ? ctx.compareDir() : null, ctx.charts());
    }

    /**
     * Copies the finished {@code outDir/report.html} to {@code reportsDir/<outDir's name>.html} (the project's
     * {@code reports/} for runs with the default output folder), through a temporary file renamed into place.
     */
    public static Path copyToReports(Path outDir, Path reportsDir) {
        Path dest = reportsDir.resolve(outDir.getFileName() + ".html");
        try {
            Files.createDirectories(dest.getParent());
            Path tmp = Files.createTempFile(dest.getParent(), "." + dest.getFileName(), ".tmp");
            try {
                org.depthlens.util.AtomicDir.publicReadable(tmp, "rw-r--r--");
                Files.copy(outDir.resolve("report.html"), tmp, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, dest, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } finally {
                Files.deleteIfExists(tmp);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("copying the report to " + dest, e);
        }
        return dest;
    }

    /**
     * A report.html made of {@code sections} alone, for runs without probe metrics (e.g. {@code depthlens eval}):
     * the context has no models, so sections bring their own data and draw their own charts with
     * {@link ReportContext#writeChart}.
     */
    public static Path writePage(Path outDir, String title, List<ReportSection> sections) throws IOException {
        ChartFiles.checkSvgSupport();
        ReportContext ctx = new ReportContext(outDir, title, List.of(), List.of());
        Files.createDirectories(outDir);
        String html = render(ctx, sections);
        Path report = outDir.resolve("report.html");
        Files.writeString(report, html, StandardCharsets.UTF_8);
        return report;
    }

    /** The complete report.html. */
    static String render(ReportContext ctx, List<ReportSection> sections) throws IOException {
        List<ReportSection> active = new ArrayList<>();
        Set<String> ids = new LinkedHashSet<>();
        for (ReportSection s : sections) {
            if (!s.id().matches("[A-Za-z][A-Za-z0-9-]*")) {
                throw new IllegalArgumentException("section id '" + s.id() + "' must be letters, digits and '-'");
            }
            if (!ids.add(s.id())) {
                throw new IllegalArgumentException("two sections have the id '" + s.id() + "'");
            }
            if (s.appliesTo(ctx)) {
                active.add(s);
            }
        }
        Html body = new Html();
        for (ReportSection s : active) {
            body.raw("<section id=\"").text(s.id()).raw("\">\n<h2>").text(s.title()).raw("</h2>\n");
            s.render(ctx, body);
            body.raw("</section>\n");
        }

        Html h = new Html();
        h.raw("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
                .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
                // nothing may be fetched: images are data: URIs, there is no script, font or stylesheet link
                .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                        + "img-src data:; style-src 'unsafe-inline'\">\n")
                .raw("<title>").text(ctx.models().isEmpty() ? ctx.title() : ctx.title() + ": " + String.join(", ", labels(ctx)))
                .raw("</title>\n")
                .raw("<style>\n").raw(CSS).raw("</style>\n</head>\n<body>\n");
        h.raw("<header>\n<h1>").text(ctx.title()).raw("</h1>\n<p class=\"models\">");
        for (ReportModel m : ctx.models()) {
            h.raw("<a class=\"chip\" href=\"#").text(m.anchor()).raw("\">").swatch(m).raw("</a> ");
        }
        h.raw("</p>\n<p class=\"sub\">").text(subtitle(ctx)).raw("</p>\n");
        h.raw("<nav>\n<ul>\n");
        for (ReportSection s : active) {
            h.raw("<li><a href=\"#").text(s.id()).raw("\">").text(s.title()).raw("</a>");
            Map<String, String> toc = s.toc(ctx);
            if (!toc.isEmpty()) {
                h.raw("<ul>");
                for (Map.Entry<String, String> e : toc.entrySet()) {
                    h.raw("<li><a href=\"#").text(e.getKey()).raw("\">").text(e.getValue()).raw("</a></li>");
                }
                h.raw("</ul>");
            }
            h.raw("</li>\n");
        }
        h.raw("</ul>\n</nav>\n</header>\n<main>\n").raw(body.toString()).raw("</main>\n")
                .raw("<footer>Written by depthlens").text(toolVersions(ctx))
                .raw(". Metric definitions: docs/metrics.md.</footer>\n</body>\n</html>\n");
        return h.toString();
    }

    private static List<String> labels(ReportContext ctx) {
        return ctx.models().stream().map(ReportModel::label).toList();
    }

    private static String subtitle(ReportContext ctx) {
        int n = ctx.models().size();
        if (n == 0) {
            return "No probe metrics in this report: see the sections below.";
        }
        Set<String> data = new LinkedHashSet<>();
        for (ReportModel m : ctx.models()) {
            Provenance p = m.result().provenance();
            if (p != null && p.dataPath() != null) {
                data.add(p.dataPath());
            }
        }
        String s = n + (n == 1 ? " model" : " models");
        if (!data.isEmpty()) {
            s += " \u00b7 data: " + String.join(", ", data);
        }
        return s + " \u00b7 every number follows docs/metrics.md; x[L] is taken before the final norm.";
    }

    private static String toolVersions(ReportContext ctx) {
        Set<String> v = new LinkedHashSet<>();
        for (ReportModel m : ctx.models()) {
            Provenance p = m.result().provenance();
            if (p != null && p.toolVersion() != null) {
                v.add(p.toolVersion());
            }
        }
        return v.isEmpty() ? "" : " " + String.join(", ", v);
    }

    static final String CSS = """
            :root { --fg: #1f2328; --muted: #59636e; --line: #d8dee4; --soft: #f6f8fa; }
            * { box-sizing: border-box; }
            body { margin: 0; color: var(--fg); background: var(--soft);
              font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "DejaVu Sans", Arial, sans-serif; }
            header { background: #fff; border-bottom: 1px solid var(--line); padding: 22px 40px 14px; }
            h1 { margin: 0 0 8px; font-size: 26px; }
            .models { margin: 0 0 4px; }
            .chip { display: inline-block; padding: 2px 10px; margin: 0 6px 6px 0; border: 1px solid var(--line);
              border-radius: 14px; color: var(--fg); text-decoration: none; background: #fff; font-weight: 600; }
            .sub { color: var(--muted); margin: 0 0 8px; }
            nav ul { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 18px; }
            nav li ul { display: inline-flex; gap: 4px 10px; margin-left: 8px; font-size: 13px; }
            nav li ul::before { content: "("; color: var(--muted); }
            nav li ul::after { content: ")"; color: var(--muted); }
            a { color: #0a58ca; }
            main { max-width: 1560px; margin: 0 auto; padding: 4px 32px 40px; }
            section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 6px 24px 18px;
              margin: 18px 0; }
            h2 { font-size: 21px; margin: 12px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
            h3 { font-size: 18px; margin: 18px 0 8px; }
            h4 { font-size: 15px; margin: 16px 0 6px; color: #333; }
            .model { border-left: 4px solid var(--line); padding-left: 16px; margin: 14px 0 28px; }
            .cols { display: flex; flex-wrap: wrap; gap: 8px 40px; }
            table { border-collapse: collapse; font-size: 14px; margin: 4px 0 10px; }
            th, td { padding: 4px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
            thead th { border-bottom: 2px solid #aab3bd; background: var(--soft); }
            .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
            table.prov td { max-width: 340px; }
            code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px;
              overflow-wrap: anywhere; }
            .scroll { overflow-x: auto; }
            .diff td:first-child { white-space: nowrap; }
            .swatch { display: inline-block; width: 11px; height: 11px; border-radius: 2px; margin-right: 6px;
              vertical-align: 0; }
            .note { color: var(--muted); font-size: 14px; }
            .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 18px 24px; }
            figure { margin: 0; }
            figure img { width: 100%; height: auto; border: 1px solid #e6e9ec; border-radius: 4px; display: block; }
            figcaption { font-size: 13px; color: var(--muted); margin-top: 4px; }
            figcaption b { color: var(--fg); }
            .files { display: block; font-size: 12px; color: #7b8590; }
            dl.glossary { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 6px 0; }
            dl.glossary dt { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 13.5px; font-weight: 600; }
            dl.glossary dd { margin: 0; }
            details { margin: 14px 0; } summary { cursor: pointer; font-weight: 600; }
            footer { color: var(--muted); font-size: 13px; text-align: center; padding: 0 0 30px; }
            @media print { body { background: #fff; } section { border: none; } .grid { display: block; }
              figure { break-inside: avoid; margin-bottom: 12px; } }
            """;
}
