package org.depthlens.report;

import org.knowm.xchart.internal.chartpart.Annotation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Shape;
import java.awt.Stroke;
import java.awt.geom.Line2D;
import java.awt.geom.Rectangle2D;

/**
 * 95 % intervals (docs/metrics.md, "Uncertainty") as whiskers on the bars of one series of a grouped category chart
 * (bars side by side, not overlapped nor stacked). XChart does not expose where it put a bar, so this places each
 * whisker by XChart's own bar layout: the plot's width times the styler's plot content size, split into one slot per
 * category, each slot's {@code availableSpaceFill} shared by the series in order. A bound that is not finite draws
 * no whisker.
 */
final class BarWhiskers extends Annotation {
    private final int series;
    private final int seriesCount;
    private final double[] lo;
    private final double[] hi;
    private final double contentSize;
    private final double fill;

    BarWhiskers(int series, int seriesCount, double[] lo, double[] hi, double contentSize, double fill) {
        super(false);
        this.series = series;
        this.seriesCount = seriesCount;
        this.lo = lo.clone();
        this.hi = hi.clone();
        this.contentSize = contentSize;
        this.fill = fill;
    }

    /** Screen x of the centre of this series' bar in category {@code c} of {@code categories}, plot from x0 to x1. */
    static double centre(double x0, double x1, int categories, int c, int series, int seriesCount, double contentSize, double fill) {
        double space = contentSize * (x1 - x0);
        double step = space / categories;
        double bar = step / seriesCount * fill;
        return x0 + (x1 - x0 - space) / 2 + step * c + step * (1 - fill) / 2 + series * bar + bar / 2;
    }

    @Override
    public void paint(Graphics2D g) {
        Shape oldClip = g.getClip();
        Stroke oldStroke = g.getStroke();
        int x0 = getXAxisScreenValueForMin(), x1 = getXAxisScreenValueForMax();
        int y0 = getYAxisScreenValueForMax(), y1 = getYAxisScreenValueForMin();
        g.clip(new Rectangle2D.Double(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)));
        g.setColor(new Color(40, 40, 40));
        g.setStroke(new BasicStroke(1f));
        int n = Math.min(lo.length, hi.length);
        double cap = Math.max(1.5, (contentSize * (x1 - x0) / n) / seriesCount * fill * 0.25);
        for (int c = 0; c < n; c++) {
            if (!Double.isFinite(lo[c]) || !Double.isFinite(hi[c])) continue;
            double x = centre(x0, x1, n, c, series, seriesCount, contentSize, fill);
            double top = getYAxisScreenValue(hi[c]), bottom = getYAxisScreenValue(lo[c]);
            g.draw(new Line2D.Double(x, top, x, bottom));
            g.draw(new Line2D.Double(x - cap, top, x + cap, top));
            g.draw(new Line2D.Double(x - cap, bottom, x + cap, bottom));
        }
        g.setStroke(oldStroke);
        g.setClip(oldClip);
        bounds = new Rectangle2D.Double();
    }
}
