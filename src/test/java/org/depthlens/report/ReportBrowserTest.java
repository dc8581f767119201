package org.depthlens.report;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Opens report.html in headless Chromium and checks, in the browser, that every chart image
 * decodes and that the page requests nothing: a copy of the report gets a small script (placed
 * before the Content-Security-Policy, which would block it otherwise) that, after the load event,
 * writes into the DOM the image states, every Resource Timing entry and every CSP violation;
 * {@code --dump-dom} hands the DOM back. A second run on a copy with two bad images proves the
 * check would see a request. Network access is also cut off by a host resolver rule.
 *
 * <p>Without Chromium the test is skipped, unless the {@code CI} environment variable is set
 * (then it fails). {@code DEPTHLENS_CHROMIUM} names the binary to use instead of the usual paths.
 */
class ReportBrowserTest {
    private static final String MARKER = "<pre id=\"depthlens-check\">";
    private static Path chromium;
    private static String skipReason;

    @BeforeAll
    static void findChromium() {
        chromium = locate();
        if (chromium == null) {
            String msg = "Chromium not found (looked at $DEPTHLENS_CHROMIUM if set, else /usr/bin/chromium, "
                    + "/usr/bin/chromium-browser, /usr/bin/google-chrome); install it with "
                    + "'apt-get install -y chromium'";
            if (isCi()) {
                fail(msg + " (CI is set, so the browser test may not be skipped)");
            }
            skipReason = msg + "; skipping the browser test (set CI=true to make this a failure)";
            System.err.println("WARNING: " + skipReason);
        }
    }

    @BeforeEach
    void requireChromium() {
        Assumptions.assumeTrue(chromium != null, () -> skipReason);
    }

    static boolean isCi() {
        String ci = System.getenv("CI");
        return ci != null && !ci.isBlank() && !ci.equalsIgnoreCase("false") && !ci.equals("0");
    }

    static Path locate() {
        String env = System.getenv("DEPTHLENS_CHROMIUM");
        List<String> candidates = env != null && !env.isBlank() ? List.of(env)
                : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome");
        for (String c : candidates) {
            Path p = Paths.get(c);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    @Test
    void everyChartLoadsAndNothingIsRequested(@TempDir Path profile) throws Exception {
        ReportOutput out = SharedReport.get();
        JsonNode r = check(out.reportHtml(), "report-check.html", "", profile);
        int expected = out.charts().size() + 4 + 2; // + the side-by-side heatmaps and sublayer charts
        assertEquals(expected, r.get("images").intValue(), r.toString());
        assertEquals(expected, r.get("loaded").intValue(), "images that did not load: " + r.get("broken"));
        // the probes beyond the paper, for the final Pre-LN / LNS pair and in the comparison, shown and decoded
        List<String> shown = new ArrayList<>();
        r.get("charts").forEach(c -> shown.add(c.asText()));
        for (String c : List.of("logit_lens", "top1_agreement", "jacobian_deviation", "sublayer_removal")) {
            assertEquals(c.equals("sublayer_removal") ? 4 : 3, shown.stream().filter(c::equals).count(),
                    c + " (pre_ln, lns" + (c.equals("sublayer_removal") ? ", twice each" : ", compare") + "): " + shown);
        }
        for (JsonNode w : r.get("widths")) {
            assertTrue(w.asText().startsWith((Charts.WIDTH * ChartFiles.SCALE) + "x"), w.asText());
        }
        assertEquals(0, r.get("resources").size(), "requests made by the page: " + r.get("resources"));
        assertEquals(0, r.get("violations").size(), "blocked requests: " + r.get("violations"));
    }

    @Test
    void theCheckSeesARequestWhenThereIsOne(@TempDir Path profile) throws Exception {
        ReportOutput out = SharedReport.get();
        JsonNode r = check(out.reportHtml(), "report-bad.html",
                "<img src=\"http://example.invalid/x.png\"><img src=\"missing.png\">", profile);
        assertEquals(out.charts().size() + 8, r.get("images").intValue());
        assertEquals(2, r.get("broken").size(), r.toString());
        String all = r.get("resources").toString() + r.get("violations").toString();
        assertTrue(all.contains("http://example.invalid/x.png"), all);
        assertTrue(all.contains("missing.png") || r.get("violations").size() >= 2, all);
    }

    @Test
    void screenshotOfTheReport(@TempDir Path profile) throws Exception {
        Path shot = Paths.get(System.getProperty("depthlens.root", ".")).resolve("target")
                .resolve("report-screenshot.png").toAbsolutePath();
        Files.createDirectories(shot.getParent());
        Files.deleteIfExists(shot);
        run(List.of("--hide-scrollbars", "--window-size=1400,3000", "--screenshot=" + shot,
                SharedReport.get().reportHtml().toUri().toString()), profile);
        BufferedImage img = ImageIO.read(shot.toFile());
        assertNotNull(img, "no screenshot at " + shot);
        assertEquals(1400, img.getWidth());
    }

    /** Injects the check script into a copy of {@code report} (same directory) and returns its result. */
    private static JsonNode check(Path report, String copyName, String extraBody, Path profile) throws Exception {
        String html = Files.readString(report, StandardCharsets.UTF_8);
        String script;
        try (InputStream in = ReportBrowserTest.class.getResourceAsStream("/report/browser-check.js")) {
            script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(html.startsWith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"));
        String copy = html.replaceFirst("<head>\n", "<head>\n<script>" + script.replace("$", "\\$") + "</script>\n");
        if (!extraBody.isEmpty()) {
            copy = copy.replace("</main>", extraBody + "</main>");
        }
        Path page = report.resolveSibling(copyName);
        Files.writeString(page, copy, StandardCharsets.UTF_8);
        try {
            String dom = run(List.of("--virtual-time-budget=5000", "--dump-dom", page.toUri().toString()), profile);
            int i = dom.indexOf(MARKER);
            assertTrue(i >= 0, "the check script left no result; Chromium printed "
                    + dom.substring(0, Math.min(300, dom.length())));
            int end = dom.indexOf("</pre>", i);
            String json = dom.substring(i + MARKER.length(), end).replace("&quot;", "\"").replace("&lt;", "<")
                    .replace("&gt;", ">").replace("&amp;", "&");
            return new ObjectMapper().readTree(json);
        } finally {
            Files.deleteIfExists(page);
        }
    }

    /** Runs headless Chromium with a fresh profile and no network; returns its stdout. */
    private static String run(List<String> args, Path profile) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-default-apps", "--disable-extensions",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--user-data-dir=" + profile.toAbsolutePath()));
        cmd.addAll(args);
        Path stdout = Files.createTempFile(profile.getParent(), "chromium", ".out");
        Path stderr = Files.createTempFile(profile.getParent(), "chromium", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectOutput(stdout.toFile()).redirectError(stderr.toFile()).start();
            if (!p.waitFor(120, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                fail("Chromium did not finish within 120 s: " + String.join(" ", cmd));
            }
            if (p.exitValue() != 0) {
                fail("Chromium exited with " + p.exitValue() + ": " + tail(Files.readString(stderr)));
            }
            return Files.readString(stdout, StandardCharsets.UTF_8);
        } finally {
            Files.deleteIfExists(stdout);
            Files.deleteIfExists(stderr);
        }
    }

    private static String tail(String s) {
        return s.length() <= 2000 ? s : s.substring(s.length() - 2000);
    }
}
