package org.depthlens.report;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What {@link ReportWriter#writeAll} wrote.
 *
 * @param reportHtml   {@code outDir/report.html}
 * @param modelDirs    label (as shown in the report) to the model's directory
 * @param compareDir   {@code outDir/compare}, or null with a single model
 * @param charts       every chart written, in order
 */
public record ReportOutput(Path reportHtml, Map<String, Path> modelDirs, Path compareDir, List<ChartRef> charts) {
}
