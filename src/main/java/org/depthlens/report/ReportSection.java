package org.depthlens.report;

import java.io.IOException;
import java.util.Map;

/**
 * One section of report.html. The report is the ordered list of sections given to
 * {@link ReportOptions#withSections}; {@link ReportWriter#defaultSections()} is the built-in list.
 *
 * <p>To add a section (e.g. an evaluation section with perplexity or multiple-choice accuracy drop
 * per removed block), implement this interface and insert it into the list. A section can write its
 * own charts with {@link ReportContext#writeChart} and embed them with {@link Html#figure}; every
 * string it passes to {@link Html} (other than {@link Html#raw}) is escaped.
 */
public interface ReportSection {
    /** The section's HTML id: ASCII letters, digits and '-' only. */
    String id();

    /** The heading, also shown in the table of contents. */
    String title();

    /** False leaves the section out, e.g. a comparison when there is one model. */
    default boolean appliesTo(ReportContext ctx) {
        return true;
    }

    /** Sub-entries for the table of contents: HTML id to title, in order. */
    default Map<String, String> toc(ReportContext ctx) {
        return Map.of();
    }

    /** Appends the body of the section (everything after its heading). */
    void render(ReportContext ctx, Html out) throws IOException;
}
