package org.depthlens.report;

import java.nio.file.Path;

/**
 * A chart written to disk.
 *
 * @param name    file stem, e.g. {@code variance_log}
 * @param title   short title for the report
 * @param caption one or two sentences saying what is plotted
 * @param png     the PNG file (rendered at 2x, 144 dpi)
 * @param svg     the SVG file
 * @param pngBytes the PNG content, embedded in report.html
 * @param width   logical width in CSS pixels
 * @param height  logical height in CSS pixels
 */
public record ChartRef(String name, String title, String caption, Path png, Path svg, byte[] pngBytes, int width,
                       int height) {
}
