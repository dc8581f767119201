package org.depthlens.report;

import java.util.Base64;
import java.util.List;

/**
 * A small HTML writer. Every method that takes text escapes it; only {@link #raw} does not.
 * Sections append their body through it, so user-provided strings (labels, paths) are escaped
 * on the way in.
 */
public final class Html {
    private final StringBuilder b = new StringBuilder();

    /** HTML-escapes text for element content and double-quoted attribute values. */
    public static String esc(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder o = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> o.append("&amp;");
                case '<' -> o.append("&lt;");
                case '>' -> o.append("&gt;");
                case '"' -> o.append("&quot;");
                case '\'' -> o.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t') {
                        o.append(' '); // control characters have no place in a report
                    } else {
                        o.append(c);
                    }
                }
            }
        }
        return o.toString();
    }

    /** Appends markup as is; callers must only pass constant markup or already escaped text. */
    public Html raw(String markup) {
        b.append(markup);
        return this;
    }

    /** Appends escaped text. */
    public Html text(String s) {
        b.append(esc(s));
        return this;
    }

    public Html h3(String text) {
        return raw("<h3>").text(text).raw("</h3>\n");
    }

    public Html h3(String id, String text) {
        return raw("<h3 id=\"").text(id).raw("\">").text(text).raw("</h3>\n");
    }

    public Html p(String text) {
        return raw("<p>").text(text).raw("</p>\n");
    }

    /** A paragraph with a muted style. */
    public Html note(String text) {
        return raw("<p class=\"note\">").text(text).raw("</p>\n");
    }

    /** A colour swatch followed by a label. */
    public Html swatch(ReportModel m) {
        return raw("<span class=\"swatch\" style=\"background:" + Palette.hex(m.color()) + "\"></span>")
                .text(m.label());
    }

    /** A figure with the chart embedded as a base64 PNG data URI and its caption. */
    public Html figure(ChartRef c, String relPaths) {
        raw("<figure>\n<img src=\"data:image/png;base64,")
                .raw(Base64.getEncoder().encodeToString(c.pngBytes()))
                .raw("\" width=\"" + c.width() + "\" height=\"" + c.height() + "\" alt=\"").text(c.title())
                .raw("\" data-chart=\"").text(c.name()).raw("\">\n<figcaption><b>").text(c.title()).raw(".</b> ")
                .text(c.caption());
        if (relPaths != null) {
            raw(" <span class=\"files\">").text(relPaths).raw("</span>");
        }
        return raw("</figcaption>\n</figure>\n");
    }

    /** Starts a grid of figures (two columns on wide screens). */
    public Html gridStart() {
        return raw("<div class=\"grid\">\n");
    }

    public Html gridEnd() {
        return raw("</div>\n");
    }

    /** A table; {@code numeric[i]} right-aligns column i; cells are escaped text. */
    public Html table(List<String> header, List<List<String>> rows, boolean[] numeric) {
        raw("<table>\n<thead><tr>");
        for (int i = 0; i < header.size(); i++) {
            raw(numeric != null && numeric[i] ? "<th class=\"num\">" : "<th>").text(header.get(i)).raw("</th>");
        }
        raw("</tr></thead>\n<tbody>\n");
        for (List<String> row : rows) {
            raw("<tr>");
            for (int i = 0; i < row.size(); i++) {
                raw(numeric != null && i < numeric.length && numeric[i] ? "<td class=\"num\">" : "<td>")
                        .text(row.get(i)).raw("</td>");
            }
            raw("</tr>\n");
        }
        return raw("</tbody>\n</table>\n");
    }

    @Override
    public String toString() {
        return b.toString();
    }
}
