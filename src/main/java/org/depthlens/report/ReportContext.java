package org.depthlens.report;

import org.knowm.xchart.internal.chartpart.Chart;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What sections see while the report is built: the models, the output layout, the trajectories
 * and the charts written so far. Sections may add charts with {@link #writeChart}.
 */
public final class ReportContext {
    /** Directory for the comparison charts. */
    public static final String COMPARE_DIR = "compare";
    /** Directory for a model's charts, under the model's directory. */
    public static final String CHARTS_DIR = "charts";

    private final Path outDir;
    private final String title;
    private final List<ReportModel> models;
    private final List<Trajectory> trajectories;
    private final double angularScaleMax;
    private final Map<Path, ChartRef> charts = new LinkedHashMap<>();

    ReportContext(Path outDir, String title, List<ReportModel> models, List<Trajectory> trajectories) {
        this.outDir = outDir;
        this.title = title;
        this.models = List.copyOf(models);
        this.trajectories = List.copyOf(trajectories);
        this.angularScaleMax = Charts.angularScaleMax(models);
    }

    public Path outDir() {
        return outDir;
    }

    public String title() {
        return title;
    }

    public List<ReportModel> models() {
        return models;
    }

    public List<Trajectory> trajectories() {
        return trajectories;
    }

    /** Upper end of the colour scale of every raw angular-distance heatmap in the report. */
    public double angularScaleMax() {
        return angularScaleMax;
    }

    public Path modelDir(ReportModel m) {
        return outDir.resolve(m.dirName());
    }

    public Path chartDir(ReportModel m) {
        return modelDir(m).resolve(CHARTS_DIR);
    }

    public Path compareDir() {
        return outDir.resolve(COMPARE_DIR);
    }

    /** Renders {@code chart} to {@code dir/name.png} and {@code .svg} and remembers it. */
    public ChartRef writeChart(Path dir, String name, Chart<?, ?> chart, String title, String caption)
            throws IOException {
        ChartRef ref = ChartFiles.write(chart, dir, name, title, caption);
        charts.put(ref.png(), ref);
        return ref;
    }

    /** The chart {@code name} of model {@code m}, or null if it was not drawn. */
    public ChartRef chart(ReportModel m, String name) {
        return charts.get(chartDir(m).resolve(name + ".png"));
    }

    /** The comparison chart {@code name}, or null. */
    public ChartRef compareChart(String name) {
        return charts.get(compareDir().resolve(name + ".png"));
    }

    /** Every chart written so far, in order. */
    public List<ChartRef> charts() {
        return Collections.unmodifiableList(new ArrayList<>(charts.values()));
    }

    /** "pre_ln/charts/variance.png, .svg": where the files of a chart are, relative to the report. */
    public String relPaths(ChartRef c) {
        String rel = outDir.relativize(c.png()).toString().replace('\\', '/');
        return "Files: " + rel + ", " + rel.substring(0, rel.length() - 4) + ".svg";
    }

    /** Appends a figure for {@code c} if it exists. */
    public void figure(Html out, ChartRef c) {
        if (c != null) {
            out.figure(c, relPaths(c));
        }
    }
}
