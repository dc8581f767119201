package org.depthlens.report;

import org.knowm.xchart.internal.chartpart.Annotation;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.geom.Path2D;
import java.awt.geom.Rectangle2D;

/**
 * A line's 95 % interval (docs/metrics.md, "Uncertainty") drawn as a translucent band in the line's colour between
 * {@code lo} and {@code hi}, clipped to the plot area. A point without a finite bound (or a bound &lt;= 0 on a log
 * axis) breaks the band.
 */
final class IntervalBand extends Annotation {
    private final double[] x;
    private final double[] lo;
    private final double[] hi;
    private final Color color;
    private final boolean log;

    IntervalBand(double[] x, double[] lo, double[] hi, Color color, boolean log) {
        super(false);
        this.x = x.clone();
        this.lo = lo.clone();
        this.hi = hi.clone();
        this.color = color;
        this.log = log;
    }

    private boolean ok(int i) {
        return i < lo.length && i < hi.length && Double.isFinite(lo[i]) && Double.isFinite(hi[i]) && (!log || lo[i] > 0);
    }

    @Override
    public void paint(Graphics2D g) {
        Shape oldClip = g.getClip();
        Object oldHint = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
        int x0 = getXAxisScreenValueForMin(), x1 = getXAxisScreenValueForMax();
        int y0 = getYAxisScreenValueForMax(), y1 = getYAxisScreenValueForMin();
        g.clip(new Rectangle2D.Double(Math.min(x0, x1), Math.min(y0, y1), Math.abs(x1 - x0), Math.abs(y1 - y0)));
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(new Color(color.getRed(), color.getGreen(), color.getBlue(), 56));
        int i = 0;
        while (i < x.length) {
            if (!ok(i)) {
                i++;
                continue;
            }
            int j = i;
            while (j + 1 < x.length && ok(j + 1)) j++;
            Path2D.Double p = new Path2D.Double();
            if (i == j) { // a lone point: a short bar
                double sx = getXAxisScreenValue(x[i]);
                p.moveTo(sx - 3, getYAxisScreenValue(hi[i]));
                p.lineTo(sx + 3, getYAxisScreenValue(hi[i]));
                p.lineTo(sx + 3, getYAxisScreenValue(lo[i]));
                p.lineTo(sx - 3, getYAxisScreenValue(lo[i]));
            } else {
                p.moveTo(getXAxisScreenValue(x[i]), getYAxisScreenValue(hi[i]));
                for (int k = i + 1; k <= j; k++) p.lineTo(getXAxisScreenValue(x[k]), getYAxisScreenValue(hi[k]));
                for (int k = j; k >= i; k--) p.lineTo(getXAxisScreenValue(x[k]), getYAxisScreenValue(lo[k]));
            }
            p.closePath();
            g.fill(p);
            i = j + 1;
        }
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, oldHint);
        g.setClip(oldClip);
        bounds = new Rectangle2D.Double();
    }
}
