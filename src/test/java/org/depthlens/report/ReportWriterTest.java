package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.pass.Provenance;
import org.depthlens.probe.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.XYChart;
import org.w3c.dom.Document;

import javax.imageio.ImageIO;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ReportWriterTest {
    static final List<String> MODEL_CHARTS = List.of("variance", "variance_log", "rms", "rms_log", "angular_all",
            "angular_all_rownorm", "angular_last", "angular_last_rownorm", "block_influence", "block_influence_log",
            "update_ratio", "update_ratio_log", "loss_drop", "loss_drop_zoom");
    /** The probes beyond the paper: only the final pair of {@link ReferenceData} carries them. */
    static final List<String> PROBE_CHARTS = List.of("logit_lens", "top1_agreement", "jacobian_deviation", "sublayer_removal");
    static final List<String> COMPARE_CHARTS = List.of("variance_log", "variance", "rms_log", "block_influence_log",
            "update_ratio_log", "loss_drop", "loss_drop_zoom", "logit_lens", "top1_agreement", "jacobian_deviation",
            "trajectory_1_variance_log",
            "trajectory_1_block_influence_log", "trajectory_1_loss_drop", "trajectory_2_variance_log",
            "trajectory_2_block_influence_log", "trajectory_2_loss_drop");

    static String html() throws IOException {
        return Files.readString(SharedReport.get().reportHtml());
    }

    @Test
    void writesTheDocumentedLayout() throws Exception {
        ReportOutput out = SharedReport.get();
        Path root = SharedReport.dir();
        assertEquals(root.resolve("report.html"), out.reportHtml());
        assertEquals(List.of("pre_ln-step141", "pre_ln", "lns-step141", "lns"), new ArrayList<>(out.modelDirs().keySet()));
        for (Map.Entry<String, Path> e : out.modelDirs().entrySet()) {
            Path d = e.getValue();
            assertEquals(root.resolve(e.getKey()), d);
            for (String f : List.of("metrics.json", "per_block.csv", "angular_all.csv", "angular_last.csv")) {
                assertTrue(Files.isRegularFile(d.resolve(f)), d.resolve(f).toString());
            }
            Set<String> expected = new TreeSet<>();
            List<String> charts = new ArrayList<>(MODEL_CHARTS);
            if (!e.getKey().contains("step")) charts.addAll(PROBE_CHARTS);
            for (String c : charts) {
                expected.add(c + ".png");
                expected.add(c + ".svg");
            }
            assertEquals(expected, listing(d.resolve("charts")), e.getKey());
        }
        Set<String> expected = new TreeSet<>();
        for (String c : COMPARE_CHARTS) {
            expected.add(c + ".png");
            expected.add(c + ".svg");
        }
        assertEquals(root.resolve("compare"), out.compareDir());
        assertEquals(expected, listing(out.compareDir()));
        assertEquals(4 * MODEL_CHARTS.size() + 2 * PROBE_CHARTS.size() + COMPARE_CHARTS.size(), out.charts().size());
    }

    @Test
    void metricsJsonInTheReportIsTheInput() throws Exception {
        List<ModelResult> in = ReferenceData.all();
        for (ModelResult r : in) {
            MetricsJsonTest.assertSame(r, MetricsJson.read(SharedReport.get().modelDirs().get(r.label())
                    .resolve("metrics.json")));
        }
    }

    @Test
    void everyChartIsAValidPngAndSvg() throws Exception {
        DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
        f.setNamespaceAware(true);
        f.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        DocumentBuilder b = f.newDocumentBuilder();
        for (ChartRef c : SharedReport.get().charts()) {
            byte[] png = Files.readAllBytes(c.png());
            assertArrayEquals(c.pngBytes(), png);
            assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10}, Arrays.copyOf(png, 8));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertNotNull(img, c.png().toString());
            assertEquals(c.width() * ChartFiles.SCALE, img.getWidth());
            assertEquals(c.height() * ChartFiles.SCALE, img.getHeight());
            Document svg = b.parse(c.svg().toFile());
            assertEquals("svg", svg.getDocumentElement().getLocalName(), c.svg().toString());
            assertEquals("0 0 " + c.width() + " " + c.height(), svg.getDocumentElement().getAttribute("viewBox"));
            assertTrue(svg.getElementsByTagNameNS("http://www.w3.org/2000/svg", "path").getLength() > 50,
                    "an SVG chart has drawn content: " + c.svg());
        }
    }

    @Test
    void htmlEmbedsEveryChart() throws Exception {
        String html = html();
        for (ChartRef c : SharedReport.get().charts()) {
            String b64 = Base64.getEncoder().encodeToString(Files.readAllBytes(c.png()));
            assertTrue(html.contains("src=\"data:image/png;base64," + b64 + "\""), "chart not embedded: " + c.png());
            assertTrue(html.contains("data-chart=\"" + c.name() + "\""), c.name());
        }
        // every image is a PNG data URI that decodes
        Matcher m = Pattern.compile("<img src=\"([^\"]*)\"").matcher(html);
        int n = 0;
        while (m.find()) {
            String src = m.group(1);
            assertTrue(src.startsWith("data:image/png;base64,"), src.substring(0, Math.min(60, src.length())));
            assertNotNull(ImageIO.read(new ByteArrayInputStream(Base64.getDecoder().decode(src.substring(22)))));
            n++;
        }
        // the side-by-side views show each model's angular_last heatmap and the pair's sublayer charts a second time
        assertEquals(SharedReport.get().charts().size() + 4 + 2, n);
    }

    @Test
    void htmlHasTheRequiredContent() throws Exception {
        String html = html();
        for (String id : List.of("models", "provenance", "metrics", "per-model", "comparison", "files",
                "model-pre_ln", "model-lns", "model-pre_ln-step141", "model-lns-step141", "cmp-differences",
                "cmp-trajectory-1", "cmp-trajectory-2")) {
            assertTrue(html.contains("id=\"" + id + "\""), id);
        }
        ModelResult pre = ReferenceData.model("pre_ln");
        for (String s : List.of(pre.provenance().configSha256(), pre.provenance().weightsSha256(),
                pre.provenance().dataSha256(), "16384", "0.1.0", "2025-06-01T12:00:00Z")) {
            assertTrue(html.contains(s), s);
        }
        // key numbers of pre_ln, rounded to 5 significant digits from the reference values
        assertTrue(html.contains(">4.6889<"), "loss");
        assertTrue(html.contains(">108.73<"), "perplexity exp(4.688861) = 108.73");
        assertTrue(html.contains("block 0: +5.552"), "most important block by removal");
        assertTrue(html.contains("block 6: +0.003165"), "least important block by removal");
        assertTrue(html.contains("block 14: 0.003759"), "lowest block influence");
        for (String[] g : Sections.GLOSSARY) {
            assertTrue(html.contains(Html.esc(g[1])), g[0]);
        }
    }

    @Test
    void htmlRequestsNothingFromOutsideTheFile() throws Exception {
        assertNoExternalReference(html());
    }

    static void assertNoExternalReference(String html) {
        assertTrue(html.contains("Content-Security-Policy\" content=\"default-src 'none'; img-src data:;"));
        String lower = html.toLowerCase();
        for (String banned : List.of("<script", "<link", "<iframe", "<object", "<embed", "@import", "<base",
                "srcset", "http-equiv=\"refresh\"")) {
            assertFalse(lower.contains(banned), banned);
        }
        Matcher m = Pattern.compile("(?i)\\b(src|href|action|poster|data)\\s*=\\s*\"([^\"]*)\"").matcher(html);
        while (m.find()) {
            String v = m.group(2);
            boolean ok = v.startsWith("data:image/png;base64,") || v.startsWith("#");
            assertTrue(ok || m.group(1).equalsIgnoreCase("data"), m.group(1) + "=" + v);
        }
        Matcher u = Pattern.compile("(?i)url\\s*\\(").matcher(html);
        assertFalse(u.find(), "no url() in CSS");
        assertFalse(Pattern.compile("(?i)(src|href)\\s*=\\s*'").matcher(html).find(), "single-quoted URL attribute");
    }

    @Test
    void userStringsAreEscaped(@TempDir Path dir) throws Exception {
        String evil = "<img src=x onerror=alert(1)>&\"'";
        Metrics m = MetricsJsonTest.tiny(new double[] {0.1, 1, 2, 3, 4, 5}, 2.5);
        ModelResult r = new ModelResult(evil, "<b>fam</b>", false, m, null, null,
                new Provenance("/tmp/\"><script>alert(2)</script>", "c", "w", "/d/<i>x</i>", "ds", 1, 32,
                        "0.1.0", "2025"));
        ReportOutput out = ReportWriter.writeAll(List.of(r), dir);
        String html = Files.readString(out.reportHtml());
        assertFalse(html.contains("<script>alert"));
        assertFalse(html.contains("<img src=x"));
        assertFalse(html.contains("<b>fam"));
        assertFalse(html.contains("<i>x</i>"));
        assertTrue(html.contains("&lt;img src=x onerror=alert(1)&gt;&amp;&quot;&#39;"));
        assertTrue(html.contains("/tmp/&quot;&gt;&lt;script&gt;alert(2)&lt;/script&gt;"));
        assertNoExternalReference(html);
        Path d = out.modelDirs().get(evil);
        assertEquals(dir, d.getParent(), "a label cannot leave the output directory");
        assertTrue(d.getFileName().toString().matches("[A-Za-z0-9._-]+"), d.toString());
    }

    @Test
    void labelsBecomeUniqueSafeDirectories() {
        Metrics m = MetricsJsonTest.tiny(new double[] {0.1, 1, 2, 3, 4, 5}, 2.5);
        List<ModelResult> rs = new ArrayList<>();
        for (String l : Arrays.asList("compare", "a", "a", "A", "../x/y", "", null, "report.html")) {
            rs.add(new ModelResult(l, "f", false, m, null, null, null));
        }
        List<ReportModel> ms = ReportModel.of(rs);
        assertEquals(List.of("compare", "a", "a (2)", "A", "../x/y", "model 6", "model 7", "report.html"),
                ms.stream().map(ReportModel::label).toList());
        // "A" clashes with "a" and, case-insensitively, with "a-2" (case-insensitive file systems)
        assertEquals(List.of("compare-2", "a", "a-2", "A-3", "x_y", "model_6", "model_7", "report.html-2"),
                ms.stream().map(ReportModel::dirName).toList());
    }

    @Test
    void sameInputGivesIdenticalFiles(@TempDir Path dir) throws Exception {
        List<ModelResult> rs = List.of(ReferenceData.model("lns"));
        ReportWriter.writeAll(rs, dir.resolve("a"));
        ReportWriter.writeAll(List.of(ReferenceData.model("lns")), dir.resolve("b"));
        List<Path> files;
        try (Stream<Path> s = Files.walk(dir.resolve("a"))) {
            files = s.filter(Files::isRegularFile).sorted().toList();
        }
        assertEquals(1 + 4 + 2 * (MODEL_CHARTS.size() + PROBE_CHARTS.size()), files.size());
        for (Path f : files) {
            Path other = dir.resolve("b").resolve(dir.resolve("a").relativize(f));
            assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(other), f.toString());
        }
        assertFalse(Files.exists(dir.resolve("a/compare")), "one model: no comparison");
        String html = Files.readString(dir.resolve("a/report.html"));
        assertFalse(html.contains("id=\"comparison\""));
    }

    @Test
    void customSectionsCanAddChartsAndTheComparisonNeedsTwoModels(@TempDir Path dir) throws Exception {
        Metrics m = MetricsJsonTest.tiny(new double[] {0.1, 1, 2, 3, 4, 5}, 2.5);
        ReportSection eval = new ReportSection() {
            @Override
            public String id() {
                return "evaluation";
            }

            @Override
            public String title() {
                return "Evaluation <drop>";
            }

            @Override
            public void render(ReportContext ctx, Html out) throws IOException {
                ReportModel rm = ctx.models().get(0);
                XYChart c = Charts.lines("accuracy drop", Charts.BLOCK_AXIS, "drop", List.of(new Charts.Line("acc",
                        Charts.range(0, rm.blocks()), new double[] {0.3, 0.01, 0.02, 0.0, 0.05}, rm.color(),
                        Charts.marker(0), false)), Charts.Scale.LINEAR, false, true, "block");
                ctx.figure(out, ctx.writeChart(ctx.modelDir(rm).resolve("charts"), "mc_accuracy_drop", c,
                        "Accuracy drop", "Multiple-choice accuracy drop per removed block."));
            }
        };
        List<ReportSection> sections = new ArrayList<>(ReportWriter.defaultSections());
        sections.add(4, eval);
        ModelResult r = new ModelResult("only", "f", false, m, null, null, null);
        ReportOutput out = ReportWriter.writeAll(List.of(r), dir, ReportOptions.defaults().withSections(sections));
        String html = Files.readString(out.reportHtml());
        assertTrue(html.contains("<section id=\"evaluation\">\n<h2>Evaluation &lt;drop&gt;</h2>"));
        assertTrue(html.contains("href=\"#evaluation\""));
        assertTrue(Files.exists(dir.resolve("only/charts/mc_accuracy_drop.svg")));
        assertTrue(html.indexOf("id=\"per-model\"") < html.indexOf("id=\"evaluation\""));
        assertTrue(html.indexOf("id=\"evaluation\"") < html.indexOf("id=\"files\""));
        assertFalse(html.contains("id=\"comparison\""));
        assertNull(out.compareDir());
        assertThrows(IllegalArgumentException.class, () -> ReportWriter.writeAll(List.of(r), dir.resolve("x"),
                ReportOptions.defaults().withSections(List.of(eval, eval))));
    }

    @Test
    void moeModelsGetAnExpertUsageChart(@TempDir Path dir) throws Exception {
        Metrics m = MetricsJsonTest.tiny(new double[] {0.1, 1, 2, 3, 4, 5}, 2.5);
        List<long[]> usage = Arrays.asList(null, new long[] {10, 20, 30, 40}, new long[] {25, 25, 25, 25},
                new long[] {0, 0, 50, 50}, new long[] {1, 2, 3, 94});
        ReportOutput out = ReportWriter.writeAll(List.of(new ModelResult("moe", "mixtral", false, m, null, usage,
                null)), dir);
        assertTrue(Files.exists(dir.resolve("moe/charts/expert_usage.png")));
        assertTrue(Files.readString(out.reportHtml()).contains("data-chart=\"expert_usage\""));
        assertTrue(Files.readString(dir.resolve("moe/metrics.json")).contains("\"expert_usage\": [\n    null,"));
    }

    @Test
    void trajectoriesAreGuessedFromProvenanceOrGivenExplicitly() {
        List<ReportModel> ms = ReportModel.of(ReferenceData.all());
        List<Trajectory> t = Trajectory.detect(ms);
        assertEquals(2, t.size());
        assertEquals(List.of("pre_ln-step141", "pre_ln"), t.get(0).models().stream().map(ReportModel::label).toList());
        assertEquals(List.of("lns-step141", "lns"), t.get(1).models().stream().map(ReportModel::label).toList());
        List<Trajectory> e = Trajectory.explicit(ms, List.of(List.of("lns", "lns-step141"), List.of("pre_ln")));
        assertEquals(1, e.size(), "a one-model group is no trajectory");
        assertEquals("lns", e.get(0).models().get(0).label());
        assertThrows(IllegalArgumentException.class, () -> Trajectory.explicit(ms, List.of(List.of("nope", "lns"))));
    }

    private static Set<String> listing(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new));
        }
    }
}
