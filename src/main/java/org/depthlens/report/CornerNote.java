package org.depthlens.report;

import org.knowm.xchart.internal.chartpart.Annotation;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Shape;
import java.awt.font.FontRenderContext;
import java.awt.font.TextLayout;
import java.awt.geom.AffineTransform;
import java.awt.geom.Rectangle2D;
import java.util.List;

/**
 * A small boxed note in the top-right corner of an XY plot, used to state what a zoomed or log
 * view leaves out (e.g. "off scale: block 0 = 5.55"). Positioned from the axis range given by the
 * caller, which must equal the y range the chart was drawn with.
 */
final class CornerNote extends Annotation {
    private final List<String> lines;
    private final double xMax;
    private final double yMax;
    private final Font font;

    CornerNote(List<String> lines, double xMax, double yMax, Font font) {
        super(false);
        this.lines = List.copyOf(lines);
        this.xMax = xMax;
        this.yMax = yMax;
        this.font = font;
    }

    @Override
    public void paint(Graphics2D g) {
        if (lines.isEmpty()) {
            return;
        }
        Object oldHint = g.getRenderingHint(RenderingHints.KEY_ANTIALIASING);
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        FontRenderContext frc = new FontRenderContext(null, true, false);
        double pad = 5;
        double gap = 3;
        double width = 0;
        double height = 0;
        TextLayout[] layouts = new TextLayout[lines.size()];
        for (int i = 0; i < layouts.length; i++) {
            layouts[i] = new TextLayout(lines.get(i), font, frc);
            width = Math.max(width, layouts[i].getAdvance());
            height += layouts[i].getAscent() + layouts[i].getDescent() + (i > 0 ? gap : 0);
        }
        double right = getXAxisScreenValue(xMax);
        double top = getYAxisScreenValue(yMax);
        double x0 = right - width - 2 * pad - 6;
        double y0 = top + 6;
        Rectangle2D box = new Rectangle2D.Double(x0, y0, width + 2 * pad, height + 2 * pad);
        g.setColor(new Color(255, 255, 255, 235));
        g.fill(box);
        g.setColor(new Color(0x999999));
        g.setStroke(new BasicStroke(1f));
        g.draw(box);
        g.setColor(new Color(0x333333));
        double y = y0 + pad;
        for (TextLayout tl : layouts) {
            y += tl.getAscent();
            Shape s = tl.getOutline(AffineTransform.getTranslateInstance(x0 + pad, y));
            g.fill(s);
            y += tl.getDescent() + gap;
        }
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, oldHint);
        bounds = box;
    }
}
