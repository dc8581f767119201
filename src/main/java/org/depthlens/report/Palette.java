package org.depthlens.report;

import java.awt.Color;

/**
 * Colours. Models get the Okabe-Ito colour-blind-safe palette in input order (the same colour in
 * every chart and in the report's swatches); heatmaps and checkpoint ramps use viridis.
 */
public final class Palette {
    private Palette() {}

    private static final Color[] MODELS = {
        new Color(0x0072B2), // blue
        new Color(0xD55E00), // vermillion
        new Color(0x009E73), // bluish green
        new Color(0xCC79A7), // reddish purple
        new Color(0xE69F00), // orange
        new Color(0x56B4E9), // sky blue
        new Color(0x000000), // black
        new Color(0x8C6D31), // brown
    };

    /** viridis at t = 0, 0.1, ..., 1 (matplotlib's values). */
    static final Color[] VIRIDIS = {
        new Color(0x440154), new Color(0x482475), new Color(0x414487), new Color(0x355F8D),
        new Color(0x2A788E), new Color(0x21918C), new Color(0x22A884), new Color(0x44BF70),
        new Color(0x7AD151), new Color(0xBDDF26), new Color(0xFDE725),
    };

    /** The colour of the model at {@code index} (cycles after 8 models). */
    public static Color model(int index) {
        return MODELS[Math.floorMod(index, MODELS.length)];
    }

    /** viridis, linearly interpolated between the 11 stops, t clamped to [0, 1]. */
    public static Color viridis(double t) {
        double x = Math.max(0, Math.min(1, t)) * (VIRIDIS.length - 1);
        int i = Math.min((int) Math.floor(x), VIRIDIS.length - 2);
        double f = x - i;
        Color a = VIRIDIS[i];
        Color b = VIRIDIS[i + 1];
        return new Color((int) Math.round(a.getRed() + f * (b.getRed() - a.getRed())),
                (int) Math.round(a.getGreen() + f * (b.getGreen() - a.getGreen())),
                (int) Math.round(a.getBlue() + f * (b.getBlue() - a.getBlue())));
    }

    /** Colour of checkpoint {@code i} of {@code k} in a trajectory: green (early) to dark purple (late). */
    public static Color ramp(int i, int k) {
        double t = k <= 1 ? 1 : (double) i / (k - 1);
        return viridis(0.72 - 0.68 * t);
    }

    /** The colour mixed halfway with white: the second series of a model (MLP next to attention). */
    public static Color lighter(Color c) {
        return new Color((c.getRed() + 255) / 2, (c.getGreen() + 255) / 2, (c.getBlue() + 255) / 2);
    }

    /** CSS hex form, e.g. {@code #0072b2}. */
    public static String hex(Color c) {
        return String.format(java.util.Locale.ROOT, "#%02x%02x%02x", c.getRed(), c.getGreen(), c.getBlue());
    }
}
