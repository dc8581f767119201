package org.depthlens.report;

import java.util.List;

/**
 * How to build the report.
 *
 * @param title        the page title and h1
 * @param sections     the sections of report.html, in order (null: {@link ReportWriter#defaultSections()})
 * @param trajectories groups of model labels that are checkpoints of one run, each in checkpoint
 *                     order; null guesses them (see {@link Trajectory#detect}); an empty list means none
 */
public record ReportOptions(String title, List<ReportSection> sections, List<List<String>> trajectories) {

    public static ReportOptions defaults() {
        return new ReportOptions("depthlens report", null, null);
    }

    public ReportOptions withTitle(String t) {
        return new ReportOptions(t, sections, trajectories);
    }

    public ReportOptions withSections(List<ReportSection> s) {
        return new ReportOptions(title, s == null ? null : List.copyOf(s), trajectories);
    }
}
