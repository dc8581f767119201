package org.depthlens.report;

import org.depthlens.analysis.ModelResult;
import org.junit.jupiter.api.Test;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A trajectory of 60 checkpoints drawn as checkpoint x block heatmaps (the tiny-curse reference metrics, relabelled). */
class TrajectoryHeatmapTest {
    static List<ReportModel> sixty() {
        List<ModelResult> base = ReferenceData.all();
        List<ModelResult> rs = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            ModelResult b = base.get(i % base.size());
            rs.add(new ModelResult("step" + (i + 1) * 100, b.family(), b.lns(), b.metrics(), b.prunedRemoval(), b.expertUsage(),
                    b.provenance()));
        }
        return ReportModel.of(rs);
    }

    @Test
    void everyCheckpointIsOneRowOfCells() throws Exception {
        List<ReportModel> ms = sixty();
        int blocks = ms.get(0).blocks();
        HeatMapChart bi = Charts.trajectory("T: ", ms, "block_influence");
        HeatMapChart loss = Charts.trajectory("T: ", ms, "loss_drop");
        HeatMapChart var = Charts.trajectory("T: ", ms, "variance");
        List<Number[]> cells = new ArrayList<>(bi.getSeriesMap().get("block_influence").getHeatData());
        assertEquals(60 * blocks, cells.size());
        // cell (block 5, checkpoint 7) is log10 of that checkpoint's own value
        Number[] c = cells.stream().filter(n -> n[0].intValue() == 5 && n[1].intValue() == 7).findFirst().orElseThrow();
        assertEquals(Math.log10(ms.get(7).metrics().blockInfluence()[5]), c[2].doubleValue(), 0);
        assertEquals(60 * (blocks + 1), var.getSeriesMap().get("variance").getHeatData().size());
        // block 0's loss increase (several nats) would flatten the rest: the scale ends at the 95th percentile
        double max = loss.getStyler().getMax();
        assertTrue(max < ms.get(0).lossDrop()[0], "colour scale clipped below block 0's value, got " + max);
        assertTrue(loss.getTitle().contains("colours end at"), loss.getTitle());
        // y labels thinned to at most ~32 shown, the first and last always
        List<?> y = loss.getSeriesMap().get("loss_drop").getYData();
        assertEquals(60, y.size());
        assertEquals("step100", y.get(0));
        assertEquals("step6000", y.get(59));
        assertTrue(y.stream().filter(s -> !s.toString().isBlank()).count() <= 32);
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(BitmapEncoder.getBitmapBytes(bi,
                BitmapEncoder.BitmapFormat.PNG), 4));
    }
}
