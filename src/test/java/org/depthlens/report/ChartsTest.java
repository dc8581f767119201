package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.depthlens.probe.Metrics;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYSeries;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a chart plots must be exactly the metric it names: a wrong number in a chart is the worst bug. */
class ChartsTest {
    private final List<ReportModel> models = ReportModel.of(ReferenceData.all());

    private static List<XYSeries> series(XYChart c) {
        return new ArrayList<>(c.getSeriesMap().values());
    }

    @Test
    void depthProfilesPlotVarianceTokenVarianceAndRmsAtDepths0ToL() {
        for (ReportModel m : models) {
            Metrics x = m.metrics();
            for (Charts.Scale s : Charts.Scale.values()) {
                List<XYSeries> v = series(Charts.depthProfile(m, "variance", s));
                assertEquals(2, v.size());
                assertArrayEquals(Charts.range(0, 25), v.get(0).getXData());
                assertArrayEquals(x.variance(), v.get(0).getYData());
                assertArrayEquals(x.tokenVariance(), v.get(1).getYData());
                List<XYSeries> r = series(Charts.depthProfile(m, "rms", s));
                assertArrayEquals(x.rms(), r.get(0).getYData());
                assertEquals(m.color(), r.get(0).getLineColor());
            }
        }
    }

    @Test
    void perBlockChartsPlotTheMetricOfEachBlock() {
        for (ReportModel m : models) {
            Metrics x = m.metrics();
            assertArrayEquals(x.blockInfluence(),
                    series(Charts.perBlock(m, "block_influence", Charts.Scale.LOG, false)).get(0).getYData());
            assertArrayEquals(x.updateRatio(),
                    series(Charts.perBlock(m, "update_ratio", Charts.Scale.LINEAR, false)).get(0).getYData());
            double[] drop = series(Charts.perBlock(m, "loss_drop", Charts.Scale.LINEAR, true)).get(0).getYData();
            assertArrayEquals(Charts.range(0, 24),
                    series(Charts.perBlock(m, "loss_drop", Charts.Scale.LINEAR, true)).get(0).getXData());
            for (int l = 0; l < 24; l++) {
                assertEquals(x.lossWithoutLayer()[l] - x.loss(), drop[l], 0.0, "block " + l);
            }
        }
    }

    @Test
    void zoomKeepsEveryBlockButTheDominantOneOnScale() {
        ReportModel pre = models.get(1);
        assertEquals("pre_ln", pre.label());
        double[] drop = pre.lossDrop();
        Charts.Zoom z = Charts.Zoom.of(List.of(new Charts.Line("a", Charts.range(0, 24), drop, null, null, false)));
        assertNotNull(z, "block 0 (5.55 nats) dwarfs the others");
        assertTrue(drop[0] > z.max());
        for (int l = 1; l < 24; l++) {
            assertTrue(drop[l] <= z.max() && drop[l] >= z.min(), "block " + l + " on scale");
        }
        // two models: both block-0 values are cut, nothing else
        List<Charts.Line> two = new ArrayList<>();
        for (ReportModel m : List.of(models.get(1), models.get(3))) {
            two.add(new Charts.Line(m.label(), Charts.range(0, 24), m.lossDrop(), null, null, false));
        }
        Charts.Zoom z2 = Charts.Zoom.of(two);
        for (Charts.Line line : two) {
            assertTrue(line.y()[0] > z2.max());
            for (int l = 1; l < 24; l++) {
                assertTrue(line.y()[l] <= z2.max(), line.name() + " block " + l);
            }
        }
        // no dominant value: no zoom
        assertNull(Charts.Zoom.of(List.of(new Charts.Line("a", Charts.range(0, 5), new double[] {1, 2, 3, 2, 1},
                null, null, false))));
    }

    @Test
    void logScaleTurnsNonPositiveValuesIntoGapsWithoutTouchingTheInput() {
        double[] y = {0.5, 0.0, -0.1, 0.2};
        double[] copy = y.clone();
        XYChart c = Charts.lines("t", "x", "y", List.of(new Charts.Line("s", Charts.range(0, 4), y,
                Palette.model(0), null, false)), Charts.Scale.LOG, false, false, "block");
        double[] plotted = series(c).get(0).getYData();
        assertEquals(0.5, plotted[0]);
        assertTrue(Double.isNaN(plotted[1]) && Double.isNaN(plotted[2]));
        assertEquals(0.2, plotted[3]);
        assertArrayEquals(copy, y);
    }

    @Test
    void overlaysPlotEachModelInItsOwnColour() {
        List<java.awt.Color> colours = models.stream().map(ReportModel::color).toList();
        List<XYSeries> s = series(Charts.overlay(models, "variance", Charts.Scale.LOG, false, "", colours, false));
        assertEquals(4, s.size());
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(models.get(i).metrics().variance(), s.get(i).getYData());
            assertEquals(Palette.model(i), s.get(i).getLineColor());
            assertTrue(s.get(i).getName().startsWith(models.get(i).label()));
        }
        List<XYSeries> d = series(Charts.overlay(models, "loss_drop", Charts.Scale.LINEAR, true, "", colours, false));
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(models.get(i).lossDrop(), d.get(i).getYData());
        }
    }

    @Test
    void angularHeatmapHasExactlyTheTriangleCells() {
        ModelResult r = ReferenceData.model("pre_ln");
        for (boolean last : new boolean[] {false, true}) {
            double[][] t = last ? r.metrics().angularLast() : r.metrics().angularAll();
            HeatMapChart raw = Charts.angular("pre_ln", t, last, false, 0.5);
            Map<String, Double> cells = cells(raw);
            assertEquals(24 * 25 / 2, cells.size());
            for (int l = 0; l < 24; l++) {
                for (int n = 1; n <= 24 - l; n++) {
                    assertEquals(t[l][n - 1], cells.get(l + "," + (n - 1)), 0.0, "l=" + l + " n=" + n);
                }
            }
            assertEquals(0.0, raw.getHeatMapSeries().getMin());
            assertEquals(0.5, raw.getHeatMapSeries().getMax());
            assertEquals(24, raw.getHeatMapSeries().getXData().size());
            assertEquals("0", raw.getHeatMapSeries().getXData().get(0));
            assertEquals("1", raw.getHeatMapSeries().getYData().get(0), "y index 0 is n = 1");

            Map<String, Double> norm = cells(Charts.angular("pre_ln", t, last, true, 0.5));
            double[][] expected = RowNormalization.normalize(t);
            for (int l = 0; l < 24; l++) {
                for (int n = 1; n <= 24 - l; n++) {
                    Double v = norm.get(l + "," + (n - 1));
                    if (Double.isNaN(expected[l][n - 1])) {
                        assertNull(v, "undefined cells are not drawn");
                    } else {
                        assertEquals(expected[l][n - 1], v, 0.0);
                    }
                }
            }
        }
    }

    @Test
    void angularColourScaleCoversEveryModel() {
        double max = Charts.angularScaleMax(models);
        double seen = 0;
        for (ReportModel m : models) {
            for (double[] row : m.metrics().angularAll()) {
                seen = Math.max(seen, Arrays.stream(row).max().orElse(0));
            }
            for (double[] row : m.metrics().angularLast()) {
                seen = Math.max(seen, Arrays.stream(row).max().orElse(0));
            }
        }
        assertTrue(seen <= max && max - seen < 0.05, seen + " vs " + max);
        assertEquals(0.5, max);
    }

    @Test
    void expertUsageShowsEachExpertsShareOfItsBlock() {
        List<long[]> usage = Arrays.asList(null, new long[] {1, 3, 0, 4}, new long[] {0, 0, 0, 0});
        Map<String, Double> c = cells(Charts.expertUsage("moe", usage));
        assertEquals(8, c.size());
        assertEquals(1 / 8.0, c.get("0,1"));
        assertEquals(3 / 8.0, c.get("1,1"));
        assertEquals(0.0, c.get("2,1"));
        assertEquals(0.5, c.get("3,1"));
        assertEquals(0.0, c.get("0,2"));
        assertNull(c.get("0,0"), "dense block 0 is blank");
    }

    private static Map<String, Double> cells(HeatMapChart c) {
        Map<String, Double> m = new HashMap<>();
        for (Number[] n : c.getHeatMapSeries().getHeatData()) {
            String key = n[0].intValue() + "," + n[1].intValue();
            assertNull(m.put(key, n[2].doubleValue()), "duplicate cell " + key);
        }
        return m;
    }
}
