package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.probe.Metrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class MetricsCsvTest {

    @Test
    void perBlockValuesEqualTheInput(@TempDir Path dir) throws Exception {
        for (ModelResult r : ReferenceData.all()) {
            Path d = dir.resolve(r.label());
            Files.createDirectories(d);
            MetricsCsv.writeAll(r, d);
            Metrics m = r.metrics();
            int L = m.blocks();
            List<String> lines = Files.readAllLines(d.resolve("per_block.csv"));
            assertEquals("depth,variance,token_variance,rms,block_influence,update_ratio,loss_without_layer,loss_drop,"
                    + "logit_lens_loss,logit_lens_kl,logit_lens_top1_agreement,jacobian_deviation,loss_without_attention,"
                    + "loss_without_mlp,token_similarity", lines.get(0));
            assertEquals(L + 2, lines.size());
            for (int l = 0; l <= L; l++) {
                String[] c = lines.get(l + 1).split(",", -1);
                assertEquals(15, c.length, lines.get(l + 1));
                assertEquals(Integer.toString(l), c[0]);
                assertExact(m.variance()[l], c[1]);
                assertExact(m.tokenVariance()[l], c[2]);
                assertExact(m.rms()[l], c[3]);
                if (l < L) {
                    assertExact(m.blockInfluence()[l], c[4]);
                    assertExact(m.updateRatio()[l], c[5]);
                    assertExact(m.lossWithoutLayer()[l], c[6]);
                    assertExact(m.lossWithoutLayer()[l] - m.loss(), c[7]);
                } else {
                    for (int k : new int[] {4, 5, 6, 7, 11, 12, 13}) {
                        assertEquals("", c[k], "block columns are empty at depth L");
                    }
                }
                Metrics.LogitLens lens = m.logitLens();
                assertCell(lens == null ? null : lens.loss()[l], c[8]);
                assertCell(lens == null ? null : lens.kl()[l], c[9]);
                assertCell(lens == null ? null : lens.top1Agreement()[l], c[10]);
                if (l < L) {
                    assertCell(m.jacobianDeviation() == null ? null : m.jacobianDeviation()[l], c[11]);
                    assertCell(m.lossWithoutAttention() == null ? null : m.lossWithoutAttention()[l], c[12]);
                    assertCell(m.lossWithoutMlp() == null ? null : m.lossWithoutMlp()[l], c[13]);
                }
            }
        }
    }

    /** A probe that ran is written exactly; one that was switched off leaves its column empty. */
    private static void assertCell(Double want, String cell) {
        if (want == null) {
            assertEquals("", cell);
        } else {
            assertExact(want, cell);
        }
    }

    @Test
    void angularTrianglesEqualTheInput(@TempDir Path dir) throws Exception {
        ModelResult r = ReferenceData.model("lns");
        MetricsCsv.writeAll(r, dir);
        for (String name : List.of("angular_all", "angular_last")) {
            double[][] t = name.equals("angular_all") ? r.metrics().angularAll() : r.metrics().angularLast();
            int L = t.length;
            List<String> lines = Files.readAllLines(dir.resolve(name + ".csv"));
            assertEquals(L + 1, lines.size());
            String[] head = lines.get(0).split(",", -1);
            assertEquals("l", head[0]);
            for (int n = 1; n <= L; n++) {
                assertEquals("n=" + n, head[n]);
            }
            for (int l = 0; l < L; l++) {
                String[] c = lines.get(l + 1).split(",", -1);
                assertEquals(L + 1, c.length);
                assertEquals(Integer.toString(l), c[0]);
                for (int n = 1; n <= L; n++) {
                    if (l + n <= L) {
                        assertExact(t[l][n - 1], c[n]);
                    } else {
                        assertEquals("", c[n], "l=" + l + " n=" + n + " is outside the triangle");
                    }
                }
            }
        }
    }

    @Test
    void missingLossSweepLeavesItsColumnsEmptyAndOutputIsDeterministic() {
        Metrics m0 = MetricsJsonTest.tiny(new double[] {1, 2, 3, 4, 5, 6}, 2.5);
        Metrics m = new Metrics(m0.blocks(), m0.angularAll(), m0.angularLast(), m0.blockInfluence(), m0.variance(),
                m0.tokenVariance(), m0.rms(), m0.updateRatio(), m0.loss(), null);
        ModelResult r = new ModelResult("x", "f", false, m, null, null, null);
        String csv = MetricsCsv.toCsv(MetricsCsv.perBlock(r));
        assertEquals(csv, MetricsCsv.toCsv(MetricsCsv.perBlock(r)));
        assertTrue(csv.contains("\n0,1.0,0.1,0.1,0.5,0.5,,,,,,,,,\n"), csv);
        assertTrue(!csv.contains("\r"));
    }

    private static void assertExact(double expected, String cell) {
        assertTrue(!cell.isEmpty(), "empty cell where " + expected + " was expected");
        assertEquals(Double.doubleToRawLongBits(expected), Double.doubleToRawLongBits(Double.parseDouble(cell)),
                cell + " != " + expected);
    }
}
