package org.depthlens.report;

import org.junit.jupiter.api.Test;
import org.knowm.xchart.XYChart;

import java.awt.Color;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The evaluation section's use of intervals: a change is starred only when its paired interval excludes zero, and a
 * chart's y axis holds the bands unless the chart was zoomed past a dominant block.
 */
class EvalBandsTest {
    @Test
    void aChangeIsStarredOnlyWhenItsIntervalExcludesZero() {
        double[][] b = {{0.01, -0.2, -0.3, 0.0}, {0.3, 0.1, -0.01, 0.2}};
        assertTrue(EvalSection.change(0.1, b, 0).startsWith("\u2605 "), "wholly above zero");
        assertFalse(EvalSection.change(-0.05, b, 1).contains("\u2605"), "straddles zero");
        assertTrue(EvalSection.change(-0.1, b, 2).startsWith("\u2605 "), "wholly below zero");
        assertFalse(EvalSection.change(0.1, b, 3).contains("\u2605"), "touching zero is not excluding it");
        assertEquals(Fmt.signed(0.1) + " [" + Fmt.signed(-0.2) + ", " + Fmt.signed(0.1) + "]", EvalSection.change(0.1, b, 1));
        assertEquals(Fmt.signed(0.1), EvalSection.change(0.1, null, 0), "no interval (an eval.json from before): the change alone");
        assertEquals(Fmt.signed(0.1), EvalSection.change(0.1, new double[][] {{Double.NaN}, {Double.NaN}}, 0));
        assertEquals(Fmt.num(0.5) + " [" + Fmt.num(0.25) + ", " + Fmt.num(0.75) + "]",
                EvalSection.withInterval(0.5, new double[][] {{0.25}, {0.75}}));
    }

    /** In Charts.lines, so analyze's line charts (bands on variance, block influence, the lens, ...) hold them too. */
    @Test
    void theYAxisHoldsTheBandsUnlessZoomed() {
        double[] x = {0, 1, 2, 3, 4, 5};
        double[] y = {-0.125, 0, 0, -0.125, 0, 0};
        Charts.Line l = new Charts.Line("acc", x, y, Color.BLUE, Charts.marker(0), false)
                .with(new double[][] {{-0.5, 0, 0, -0.375, 0, 0}, {0.375, 0, 0, 0, 0, 0}});
        XYChart c = Charts.lines("t", "x", "y", List.of(l), Charts.Scale.LINEAR, true, true, "block");
        assertTrue(c.getStyler().getYAxisMin() <= -0.5 && c.getStyler().getYAxisMax() >= 0.375, "the bands fit");

        // one dominant block: the zoom leaves it off scale, and its band with it
        double[] big = {30, 0.2, 0.1, 0.3, 0.2, 0.1};
        Charts.Line z = new Charts.Line("ppl", x, big, Color.BLUE, Charts.marker(0), false)
                .with(new double[][] {{20, 0, 0, 0, 0, 0}, {40, 0.4, 0.2, 0.5, 0.4, 0.2}});
        XYChart zc = Charts.lines("t", "x", "y", List.of(z), Charts.Scale.LINEAR, true, true, "block");
        double max = zc.getStyler().getYAxisMax();
        assertTrue(max < 20, "zoomed");
        assertTrue(zc.getStyler().getYAxisMin() > -1, "the zoomed range is the lines' own, not the bands'");

        Charts.Line plain = new Charts.Line("no band", x, y, Color.BLUE, Charts.marker(0), false);
        XYChart pc = Charts.lines("t", "x", "y", List.of(plain), Charts.Scale.LINEAR, true, true, "block");
        assertNull(pc.getStyler().getYAxisMin(), "without bands the axis is XChart's own");

        // a log axis takes the bands' positive ends into its decades
        Charts.Line g = new Charts.Line("variance", x, new double[] {2, 3, 4, 5, 6, 9}, Color.BLUE, Charts.marker(0), false)
                .with(new double[][] {{0.5, 2, 3, 4, 5, 8}, {3, 4, 5, 6, 7, 12}});
        XYChart lc = Charts.lines("t", "x", "y", List.of(g), Charts.Scale.LOG, false, false, "depth");
        assertTrue(lc.getStyler().getYAxisMin() <= 0.1 + 1e-9 && lc.getStyler().getYAxisMax() >= 100 * (1 - 1e-9),
                lc.getStyler().getYAxisMin() + " .. " + lc.getStyler().getYAxisMax());
    }
}
