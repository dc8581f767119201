package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.probe.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Odd but possible inputs must still give a complete report rather than an exception. */
class EdgeCasesTest {

    @Test
    void singleBlockModelWithNaNsAndZeros(@TempDir Path dir) throws Exception {
        Metrics m = new Metrics(1, new double[][] {{0.3}}, new double[][] {{Double.NaN}}, new double[] {0.0},
                new double[] {0.0, 2.0}, new double[] {0.0, 1.5}, new double[] {0.0, 1.0}, new double[] {Double.NaN},
                3.0, new double[] {Double.POSITIVE_INFINITY});
        ModelResult r = new ModelResult("one", "llama", false, m, List.of(), null, null);
        ReportOutput out = ReportWriter.writeAll(List.of(r, new ModelResult("two", "llama", true, m, null, null, null)),
                dir);
        String html = Files.readString(out.reportHtml());
        assertTrue(html.contains("data-chart=\"variance_log\""));
        assertTrue(Files.exists(dir.resolve("one/charts/block_influence_log.png")));
        assertTrue(Files.readString(dir.resolve("one/metrics.json")).contains("\"loss_without_layer\": [\n    null\n  ]"));
    }

    @Test
    void allValuesNonPositiveOnALogAxis(@TempDir Path dir) throws Exception {
        Charts.Line line = new Charts.Line("zero", Charts.range(0, 3), new double[] {0, 0, -1}, Palette.model(0),
                Charts.marker(0), false);
        ChartFiles.write(Charts.lines("t", "x", "y", List.of(line), Charts.Scale.LOG, false, false, "block"), dir,
                "z", "t", "c");
        assertTrue(Files.size(dir.resolve("z.png")) > 0);
    }
}
